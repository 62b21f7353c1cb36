"""The draft writer's REVIEW notes carry the numbers measured on the legacy data."""
from __future__ import annotations

from schema.catalog import read_schema as snapshot
from schema.custom_migration import Step
from schema.planner import AlignmentPlanner
from schema.writer import render_migration
from schema.writer import steps_of

DIVERGE = """
ALTER TABLE data_collection_location DROP CONSTRAINT {location_unique};
INSERT INTO data_collection_location (name, description, timezone)
    SELECT name, 'again', timezone FROM data_collection_location;
ALTER TABLE data_collection_clockphase DROP CONSTRAINT data_collection_clockphase_duration_seconds_check;
INSERT INTO data_collection_clockphase (message, message_only, countdown, duration_seconds,
    starts_with_trial_start, starts_with_trial_end, ends_with_trial_start, ends_with_trial_end)
    VALUES ('warm-up', false, true, -5, true, false, false, false),
           ('cool-down', false, true, -10, false, true, false, false);
ALTER TABLE data_collection_pose ALTER COLUMN speed TYPE text;
UPDATE data_collection_pose SET speed = 'fast' WHERE id IN (SELECT id FROM data_collection_pose LIMIT 3);
ALTER TABLE data_collection_trial ADD COLUMN weather_note text;
UPDATE data_collection_trial SET weather_note = 'rain' WHERE id = (SELECT min(id) FROM data_collection_trial);
ALTER TABLE data_collection_entity ADD COLUMN paint text;
UPDATE data_collection_entity SET paint = 'orange';
"""


def snapshot_and_count(project):
    connection = project.server.connect(project.database)
    connection.autocommit = True

    def count(query: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        return connection, snapshot(cursor), count


def test_review_notes_count_duplicates_violations_unconvertible_and_kept_values(migrated):
    connection, reference, count = snapshot_and_count(migrated)
    try:
        unique = migrated.sql(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'data_collection_location'::regclass "
            "AND contype = 'u'"
        )[0][0]
        migrated.sql(DIVERGE.format(location_unique=unique))
        with connection.cursor() as cursor:
            legacy = snapshot(cursor)
        steps = steps_of(AlignmentPlanner(reference, legacy, count).plan())
    finally:
        connection.close()
    reviews = [step.review for step in steps if step.review]
    assert any("1 row of data_collection_location violates UNIQUE (name)" in r for r in reviews), reviews
    assert any("2 rows of data_collection_clockphase violate CHECK" in r for r in reviews), reviews
    assert any("3 values of data_collection_pose.speed cannot be converted to double precision" in r
               for r in reviews), reviews
    kept = "1 non-NULL value in data_collection_trial.weather_note is kept in legacy"
    assert any(kept in r for r in reviews), reviews
    # An entity is keyed by its name (varchar), not by an `id` it does not have.
    painted = "3 non-NULL values in data_collection_entity.paint are kept in legacy"
    assert any(painted in r and r.endswith("keyed by name") for r in reviews), reviews
    text = render_migration(fingerprint="f" * 16, parent="data_collection.0010_x", point="x.0010",
                            steps=steps, source="x.sql", lineage="nearest 0010")
    assert text.count("# REVIEW:") == len(reviews) == 5
    compile(text, "draft.py", "exec")


def test_names_from_a_dump_cannot_inject_code_into_the_draft():
    hostile = Step("drop it", 'DROP TABLE "x"', "SELECT 1", review="kept\nimport os; os.remove('x')")
    text = render_migration(fingerprint="f" * 16, parent="data_collection.0010_x", point="x.0010",
                            steps=[hostile], source='evil"""\\N.sql', lineage="nearest 0010")
    compile(text, "draft.py", "exec")
    assert not any(line.startswith("import os") for line in text.splitlines())


def test_a_table_with_the_same_columns_under_another_name_is_proposed_as_a_rename(migrated):
    connection, reference, count = snapshot_and_count(migrated)
    try:
        migrated.sql("ALTER TABLE data_collection_note RENAME TO data_collection_fieldnote")
        with connection.cursor() as cursor:
            legacy = snapshot(cursor)
        planner = AlignmentPlanner(reference, legacy, count)
        steps = steps_of(planner.plan())
    finally:
        connection.close()
    assert [(r.kind, r.old, r.new) for r in planner.renames] == [
        ("table", "data_collection_fieldnote", "data_collection_note")
    ]
    assert steps[0].forward == 'ALTER TABLE "data_collection_fieldnote" RENAME TO "data_collection_note"'
    assert not any("DROP TABLE" in step.forward or "CREATE TABLE" in step.forward for step in steps)
