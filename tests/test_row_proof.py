"""The data proof compares every original row by key: what sums over a table cannot see, it does.

Each test makes a small table in a scratch database, records it, changes it as a migration
might (right or wrong), and reads what the data check and the row proof say.
"""

from __future__ import annotations

import pytest
from test_untrusted_dumps import backend_of

from tooling.legacy.data_check import settle
from tooling.legacy.data_inventory import take_inventory
from tooling.legacy.pipeline import data_after
from tooling.legacy.row_proof import PROOF_SCHEMA
from tooling.legacy.row_proof import RECORDING_SESSIONS
from tooling.legacy.row_proof import SPLIT_PAGES
from tooling.legacy.row_proof import compare_rows
from tooling.legacy.row_proof import drop_proof
from tooling.legacy.row_proof import record_rows
from tooling.legacy.row_versions import mark_boundary
from tooling.server.database_facts import schema_snapshot

TABLE = """
    CREATE TABLE data_collection_pose (id integer PRIMARY KEY, source text, x float8, note text);
    INSERT INTO data_collection_pose
        SELECT n, CASE WHEN n % 2 = 0 THEN 'gps' END, n * 0.5, 'pose ' || n FROM generate_series(1, 200) AS n;
"""


@pytest.fixture(scope="module")
def backend(server, tmp_path_factory):
    from conftest import copy_project

    return backend_of(copy_project(server, tmp_path_factory.mktemp("proof") / "project"))


def recorded_then_migrated(backend, database: str, before_sql: str, migration_sql: str):
    """TABLE and `before_sql` made in `database`, its rows recorded and summed, then changed by
    `migration_sql`: (recorded tables, the data check after, the inventory after). As in the
    pipeline, a table the migration wrote no row into keeps its inventory (row_versions.py)."""
    backend.tools.statements([TABLE + before_sql], database=database)
    snapshot = schema_snapshot(backend, database)
    boundary = mark_boundary(backend, database)
    recorded = record_rows(backend, database, snapshot)
    before = take_inventory(backend, database, {"public": snapshot}, recorded)
    backend.tools.statements([migration_sql], database=database)
    data, after = data_after(backend, database, before, {"public": schema_snapshot(backend, database)},
                             boundary)
    return recorded, data, after


def proof_after(backend, migration_sql: str, before_sql: str = ""):
    """(data check, row differences, unproven) for TABLE (and `before_sql`) changed by `migration_sql`."""
    with backend.admin.scratch_database("proof") as database:
        recorded, data, _ = recorded_then_migrated(backend, database, before_sql, migration_sql)
        comparison = compare_rows(backend, database, recorded, data.places)
        settle(data, comparison.differences, comparison.compared)
        drop_proof(backend, database)
        schemas = backend.tools.query(f"SELECT count(*) FROM pg_namespace WHERE nspname = '{PROOF_SCHEMA}'",
                              database=database).stdout.strip()
        assert schemas == "0"
    return data, [difference.describe() for difference in comparison.differences], comparison.unproven


def test_rows_added_and_nulls_filled_as_a_migration_does_pass(backend):
    data, differences, unproven = proof_after(backend, """
        INSERT INTO data_collection_pose VALUES (201, 'gps', 1, 'added'), (202, NULL, 2, 'added');
        UPDATE data_collection_pose SET source = 'unknown' WHERE source IS NULL;
    """)
    assert differences == [] and unproven == [] and data.losses == []
    assert data.grown == ["public.data_collection_pose: 2 rows added; its 200 original rows compared by key"]
    # Columns without NULLs got values only in the added rows: nothing of theirs was filled.
    assert data.filled == ["public.data_collection_pose.source: 100 NULLs given values by a migration; "
                           "its 100 original values compared by key"]


def test_a_grown_table_whose_original_value_changed_is_a_loss(backend):
    data, differences, _ = proof_after(backend, """
        INSERT INTO data_collection_pose VALUES (201, 'gps', 1, 'added');
        UPDATE data_collection_pose SET note = 'overwritten' WHERE id IN (7, 9);
    """)
    assert differences == ["public.data_collection_pose.note: 2 original values changed (first keys: 7, 9)"]


def test_an_original_row_swapped_for_a_new_one_is_missing(backend):
    """One row deleted and two added: the table grew, and a sum over it can tell nothing."""
    _, differences, _ = proof_after(backend, """
        DELETE FROM data_collection_pose WHERE id = 42;
        INSERT INTO data_collection_pose VALUES (201, 'gps', 1, 'a'), (202, 'gps', 2, 'b');
    """)
    assert differences == ["public.data_collection_pose: 1 original row missing (first keys: 42)"]


def test_a_filled_column_whose_existing_value_changed_is_a_loss(backend):
    data, differences, _ = proof_after(backend, """
        UPDATE data_collection_pose SET source = 'filled' WHERE source IS NULL;
        UPDATE data_collection_pose SET source = 'rtk' WHERE id = 10;
    """)
    assert any(item.startswith("public.data_collection_pose.source: 100 NULLs given values")
               for item in data.filled)
    assert differences == ["public.data_collection_pose.source: 1 original value changed (first keys: 10)"]


def test_a_renamed_column_is_compared_under_its_new_name(backend):
    data, differences, unproven = proof_after(backend, """
        ALTER TABLE data_collection_pose RENAME COLUMN note TO remark;
    """)
    assert data.moved == ["public.data_collection_pose.note -> public.data_collection_pose.remark"]
    assert data.places["public.data_collection_pose"]["columns"]["note"] == "remark"
    assert differences == [] and unproven == []
    # Every row and value sums the same under the new name: proven without reading the rows again.
    assert data.places["public.data_collection_pose"]["same_sums"]


def test_values_swapped_between_rows_are_changed_values_though_the_column_holds_the_same_set(backend):
    """The sums bind each value to its row's key: two rows that traded values do not sum alike."""
    data, differences, _ = proof_after(backend, """
        UPDATE data_collection_pose SET note = CASE id WHEN 1 THEN 'pose 2' ELSE 'pose 1' END
        WHERE id IN (1, 2);
    """)
    assert not data.places["public.data_collection_pose"]["same_sums"]
    assert differences == ["public.data_collection_pose.note: 2 original values changed (first keys: 1, 2)"]


def test_a_dropped_column_in_a_table_that_grew_is_a_loss(backend):
    data, _, _ = proof_after(backend, """
        INSERT INTO data_collection_pose VALUES (201, 'gps', 1, 'added');
        ALTER TABLE data_collection_pose DROP COLUMN note;
    """)
    assert data.losses == ["public.data_collection_pose.note: its 200 non-NULL values were not found "
                           "together anywhere after the migration (the column was dropped, or moved with "
                           "values changed or missing)"]


def test_a_conversion_that_changes_values_is_a_loss_and_one_that_keeps_them_is_not(backend):
    data, differences, _ = proof_after(backend, """
        ALTER TABLE data_collection_pose ALTER COLUMN id TYPE bigint;
        ALTER TABLE data_collection_pose ALTER COLUMN x TYPE numeric
            USING (CASE WHEN id = 5 THEN 0 ELSE x END);
    """)
    assert data.converted == ["public.data_collection_pose.id: integer -> bigint",
                              "public.data_collection_pose.x: double precision -> numeric"]
    assert differences == ["public.data_collection_pose.x: 1 original value changed (first keys: 5)"]
    assert data.losses == differences


def test_text_rewritten_by_a_conversion_to_json_is_reported_as_converted(backend):
    data, _, _ = proof_after(backend, """
        UPDATE data_collection_pose SET note = '{"n":' || id || '}';
        ALTER TABLE data_collection_pose ALTER COLUMN note TYPE jsonb USING note::jsonb;
    """)
    assert data.losses == []
    rewritten = "public.data_collection_pose.note: 200 values rewritten as jsonb (first keys: 1, 2, 3)"
    assert rewritten in data.converted


def test_a_changed_value_is_named_by_its_key_not_guessed_from_sums(backend):
    data, _, _ = proof_after(backend, "UPDATE data_collection_pose SET x = x + 1e-9 WHERE id = 77")
    assert data.losses == ["public.data_collection_pose.x: 1 original value changed (first keys: 77)"]


def test_a_changed_column_is_not_taken_for_another_tables_column_with_equal_sums(backend):
    """Two tables with the same keys and the same values in one column have equal checksums: a
    change to one must not read as a move to the other."""
    twin = ("CREATE TABLE data_collection_twin (id integer PRIMARY KEY, note text); "
            "INSERT INTO data_collection_twin SELECT id, note FROM data_collection_pose;")
    change = "UPDATE data_collection_pose SET note = 'x' WHERE id = 2"
    data, differences, _ = proof_after(backend, change, before_sql=twin)
    assert data.moved == []
    assert "public.data_collection_pose.note: 1 original value changed (first keys: 2)" in differences


def test_geometry_is_compared_exactly_coordinates_and_srid_under_a_text_key(backend):
    """A geometry's text form is its EWKB, SRID included: a point moved by a nanodegree, or one
    that kept its coordinates but lost its SRID, is a changed value, found by its varchar key."""
    places = ("CREATE TABLE data_collection_place (name varchar(100) PRIMARY KEY, point geometry); "
              "INSERT INTO data_collection_place SELECT 'robot-' || n, "
              "ST_SetSRID(ST_MakePoint(-120.75 + n * 1e-4, 35.7), 4326) FROM generate_series(1, 20) AS n;")
    change = ("UPDATE data_collection_place SET point = ST_Translate(point, 1e-9, 0) WHERE name = 'robot-3'; "
              "UPDATE data_collection_place SET point = ST_SetSRID(point, 0) WHERE name = 'robot-7';")
    _, differences, unproven = proof_after(backend, change, before_sql=places)
    assert differences == [
        "public.data_collection_place.point: 2 original values changed (first keys: robot-3, robot-7)"
    ]
    assert unproven == []


def test_a_table_that_lost_its_primary_key_is_compared_with_its_rows_as_they_are(backend):
    """Without a primary key after the migration the table has no digests of its own: the
    original rows are looked up in it directly, by the key they had."""
    change = ("ALTER TABLE data_collection_pose DROP CONSTRAINT data_collection_pose_pkey; "
              "UPDATE data_collection_pose SET note = 'x' WHERE id = 3; "
              "DELETE FROM data_collection_pose WHERE id = 4")
    data, differences, unproven = proof_after(backend, change)
    assert differences == ["public.data_collection_pose: 1 original row missing (first keys: 4)",
                           "public.data_collection_pose.note: 1 original value changed (first keys: 3)"]
    assert unproven == [] and data.losses == differences


def test_a_column_moved_into_a_new_column_of_another_table_is_found_there_not_lost(backend):
    """The check after a migration first sums only the original columns of tables that kept them
    all; a column that seems lost is looked for again in every column, the new ones too."""
    twin = ("CREATE TABLE data_collection_twin (id integer PRIMARY KEY, note text); "
            "INSERT INTO data_collection_twin SELECT id, note FROM data_collection_pose;")
    move = ("ALTER TABLE data_collection_twin ADD COLUMN x float8; UPDATE data_collection_twin AS t "
            "SET x = p.x FROM data_collection_pose AS p WHERE p.id = t.id; "
            "ALTER TABLE data_collection_pose DROP COLUMN x;")
    with backend.admin.scratch_database("proof") as database:
        _, data, after = recorded_then_migrated(backend, database, twin, move)
    assert data.losses == []
    assert data.moved == ["public.data_collection_pose.x -> public.data_collection_twin.x"]
    assert "x" in after["public.data_collection_twin"]["columns"]


def test_a_table_recorded_in_parts_keeps_each_row_once_and_a_change_in_any_part_is_found(backend):
    """A table of SPLIT_PAGES pages or more is recorded by RECORDING_SESSIONS sessions, each a
    range of its pages: every row must be in exactly one part, the last row too."""
    grown = ("INSERT INTO data_collection_pose SELECT n, 'gps', n, repeat('pose ', 20) || n "
             "FROM generate_series(201, 40000) AS n;")
    change = "UPDATE data_collection_pose SET note = 'x' WHERE id IN (1, 20000, 40000)"
    with backend.admin.scratch_database("proof") as database:
        recorded, data, _ = recorded_then_migrated(backend, database, grown, change)
        (item,) = recorded
        pages = backend.tools.value("SELECT pg_relation_size('data_collection_pose') / 8192",
                                    database=database)
        parts = backend.tools.value(f"SELECT count(*) FROM pg_tables WHERE schemaname = '{PROOF_SCHEMA}'",
                                    database=database)
        rows = backend.tools.value(f"SELECT count(*) || ' ' || count(DISTINCT k0) FROM {item.proof}",
                                   database=database)
        comparison = compare_rows(backend, database, recorded, data.places)
    assert int(pages) >= SPLIT_PAGES and int(parts) == RECORDING_SESSIONS
    assert rows == "40000 40000"
    assert [difference.describe() for difference in comparison.differences] == [
        "public.data_collection_pose.note: 3 original values changed (first keys: 1, 20000, 40000)"
    ]


def test_values_traded_between_composite_keys_that_read_alike_joined_by_a_comma_are_found(backend):
    """('x,y', 'z') and ('x', 'y,z'): the key's digest must tell them apart, or the sums cannot."""
    pairs = ("CREATE TABLE data_collection_pair (a text, b text, v integer, PRIMARY KEY (a, b)); "
             "INSERT INTO data_collection_pair VALUES ('x,y', 'z', 1), ('x', 'y,z', 2);")
    data, differences, _ = proof_after(backend, "UPDATE data_collection_pair SET v = 3 - v", before_sql=pairs)
    assert not data.places["public.data_collection_pair"]["same_sums"]
    assert differences == [
        'public.data_collection_pair.v: 2 original values changed (first keys: (x,"y,z"), ("x,y",z))']


def test_a_case_changed_under_a_case_insensitive_collation_is_a_changed_value(backend):
    """A nondeterministic collation compares and hashes 'alice' and 'ALICE' alike; the proof must not."""
    names = ("CREATE COLLATION data_collection_ci (provider = icu, locale = 'und-u-ks-level2', "
             "deterministic = false); CREATE TABLE data_collection_names (id integer PRIMARY KEY, "
             "name text COLLATE data_collection_ci); INSERT INTO data_collection_names VALUES (1, 'alice');")
    _, differences, _ = proof_after(backend, "UPDATE data_collection_names SET name = upper(name)",
                                    before_sql=names)
    assert differences == ["public.data_collection_names.name: 1 original value changed (first keys: 1)"]


def test_a_migration_that_changes_the_databases_text_settings_does_not_blur_the_proof(backend):
    """With extra_float_digits = 0 a new session prints floats to 15 digits: a change in the 17th
    would not show. The proof's sessions set what shapes a value's text themselves."""
    blur = ("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET extra_float_digits = 0', current_database()); "
            "END $$; UPDATE data_collection_pose SET x = x * (1 + 2.3e-16) WHERE id = 20;")
    _, differences, _ = proof_after(backend, blur)
    assert differences == ["public.data_collection_pose.x: 1 original value changed (first keys: 20)"]


def test_a_column_named_like_the_inventorys_row_count_is_summed_as_a_column(backend):
    odd = ('CREATE TABLE data_collection_odd (id integer PRIMARY KEY, "#rows" integer, "rows" text); '
           "INSERT INTO data_collection_odd VALUES (1, 5, 'a'), (2, 6, 'b');")
    data, differences, _ = proof_after(backend, 'UPDATE data_collection_odd SET "#rows" = 7 WHERE id = 2',
                                       before_sql=odd)
    assert differences == ["public.data_collection_odd.#rows: 1 original value changed (first keys: 2)"]
    assert data.kept_rows == 202  # its 2 rows and the 200 poses
