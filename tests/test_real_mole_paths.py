"""Real Mole dumps that are not simply a point of the history still go through `legacy` whole.

Each input is one of real Mole's own dumps (`../shared/real-mole/dumps/`) with one change the
test makes: an index a DBA added (a divergence, aligned by a reviewed custom migration at the
dump's own point, so that every later migration, data migrations included, runs on it), a
migration history that names a migration differently (rewritten from the schema), or another
form of the same dump (gzip, custom format, `--create`, no `\restrict` lines, pg_dump 11, no
migration history).
"""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from test_backends import settings_with
from test_postgis_server import REAL_DUMPS
from test_postgis_server import copied_rows
from test_untrusted_dumps import backend_of

from tooling.compliance.lineage import match_lineage
from tooling.compliance.lineage import schema_lineage
from tooling.legacy.dump_loading import load_dump
from tooling.legacy.inputs import detect
from tooling.server.database_facts import schema_snapshot

AT_0005 = REAL_DUMPS[1]
POINT_0005 = "data_collection.0005_entity_event_role"
MIGRATIONS = Path("mole") / "data_collection" / "migrations"


def edited_dump(source: Path, target: Path, old: bytes, new: bytes) -> Path:
    """`source` with its one occurrence of `old` replaced by `new`, written to `target`."""
    data = source.read_bytes()
    assert data.count(old) == 1, f"{old!r} occurs {data.count(old)} times in {source.name}"
    target.write_bytes(data.replace(old, new))
    return target


def kept_scratch(stdout: str) -> str:
    """The scratch database `--keep-scratch` kept, from the task's output."""
    return next(line.split()[-1].rstrip(".") for line in stdout.splitlines()
                if line.startswith("Kept the scratch database"))


def test_a_divergent_real_dump_is_aligned_at_its_own_point_and_every_later_data_migration_runs(
    project, tmp_path
):
    # Two changes to real Mole at 0005: an index a DBA added, and a migration history that names
    # one migration as our history does not (Django alone would stop on it, inconsistent).
    dba_index = b"CREATE INDEX dba_pose_elevation ON public.data_collection_pose USING btree (elevation);\n"
    indexed = edited_dump(AT_0005, tmp_path / "indexed.sql",
                          b"\n\\unrestrict ", b"\n" + dba_index + b"\\unrestrict ")
    dump = edited_dump(indexed, tmp_path / "dba_index.sql",
                       b"\tdata_collection\t0003_region\t", b"\tdata_collection\t0003_regions\t")
    first = project.invoke("legacy", "--db", str(dump))
    assert first.returncode == 3, first.stdout + first.stderr
    assert "made by another Django" not in first.stdout  # the index is no drift
    assert "Made by an older Django: converted" in first.stdout  # but the serial keys are
    [draft] = (project.root / MIGRATIONS).glob("*_legacy_dba_index.py")
    text = draft.read_text()
    # The draft leads to Mole at 0005 (where the dump is), not to today's head: one step.
    assert f"ALIGNS_TO = {POINT_0005!r}" in text
    assert text.count("    Step(") == 1 and 'DROP INDEX "dba_pose_elevation"' in text
    draft.write_text(text.replace("REVIEWED = False", "REVIEWED = True"))

    result = project.invoke("legacy", "--db", str(dump), "--name", "dba", "--keep-scratch")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "InconsistentMigrationHistory" not in result.stderr
    assert f"aligning the schema to {POINT_0005}, then running every later migration" in result.stdout
    assert ("rewritten from the lineage: removed data_collection.0003_regions; "
            "recorded data_collection.0003_region") in result.stdout
    scratch = kept_scratch(result.stdout)
    try:
        # 0010 is a data migration: each role's metadata key name became a MetadataKey of that name.
        roles = project.sql(
            "SELECT role.name, key.name FROM data_collection_entityeventrole role "
            "JOIN data_collection_metadatakey key ON key.id = role.metadata_key_id ORDER BY role.name",
            scratch,
        )
        applied = project.sql("SELECT name FROM django_migrations WHERE app = 'data_collection' "
                              "AND name LIKE '0010%'", scratch)
    finally:
        project.sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)', "postgres")
    assert roles == [("detector", "operator"), ("target", "target")]
    assert applied == [("0010_create_metadata_keys_values",)]
    manifest = json.loads((project.root / "db_backups/bundles/dba/manifest.json").read_text())
    assert manifest["verification"]["ok"] and not manifest["data"]["losses"]
    assert manifest["started_from"] == POINT_0005
    # The tables the migrations wrote into (0010's roles, Django's new permissions) were read again;
    # the poses, untouched, kept their sums from before (row_versions.py).
    unwritten = set(manifest["data"]["unwritten"])
    assert "public.data_collection_pose" in unwritten
    assert not unwritten & {"public.data_collection_entityeventrole", "public.auth_permission"}
    assert manifest["history_rewritten"] == {"removed": ["data_collection.0003_regions"],
                                             "added": ["data_collection.0003_region"]}
    assert project.invoke("makemigrations", "--check").returncode == 0


def variants_of_a_real_dump(tmp_path: Path) -> dict[str, Path]:
    """One real dump as users bring it: gzip, and as pg_dump 11 (the PostGIS image real Mole runs)
    writes it: its header, no `\\restrict` lines."""
    original = AT_0005.read_bytes()
    unrestricted = b"".join(line for line in original.splitlines(keepends=True)
                            if not line.startswith((b"\\restrict ", b"\\unrestrict ")))
    header = rb"(-- Dumped (?:from database|by pg_dump) version )[^\n]+"
    pg_dump_11 = re.sub(header, rb"\g<1>11.22", unrestricted)
    pg_dump_11 = pg_dump_11.replace(b"SET default_table_access_method = heap;\n", b"")  # PostgreSQL 12+
    variants = {  # pg_dump 11 wrote no `\restrict` lines: one file is both cases
        "gzip": (tmp_path / "gzip.sql.gz", gzip.compress(original)),
        "pg_dump_11_no_restrict": (tmp_path / "pg_dump_11.sql", pg_dump_11),
    }
    for path, data in variants.values():
        path.write_bytes(data)
    return {name: path for name, (path, _) in variants.items()}


def test_a_real_dump_in_each_form_users_bring_loads_every_row_and_is_recognised(project, tmp_path):
    backend = backend_of(project)
    settings = settings_with(backend="local", database=project.database,
                             data_dir=str(project.server.data_dir))
    history = schema_lineage(backend, settings)
    expected = {table: rows for table, rows in copied_rows(AT_0005).items()
                if table.startswith("public.data_collection_")}
    variants = variants_of_a_real_dump(tmp_path)
    found = {}

    def loads(name: str, path: Path, then=None) -> None:
        with backend.admin.scratch_database("variant") as scratch:
            try:
                load_dump(backend, detect(path), scratch)
            except Exception as error:  # noqa: BLE001 - every variant is tried, then all are reported
                found[name] = f"refused: {error}"
                return
            counts = dict(project.sql(" UNION ALL ".join(
                f"SELECT '{table}', count(*) FROM {table}" for table in expected), scratch))
            lineage = match_lineage(history, schema_snapshot(backend, scratch))
            found[name] = (counts == expected, lineage.made_by_older_django, lineage.nearest)
            if then:
                then(scratch)

    def dump_other_formats(scratch: str) -> None:
        # What pg_dump makes of the loaded copy: custom format, and plain SQL with --create; and
        # a dump made without its migration history (`pg_dump --exclude-table django_migrations`).
        for name, options in (("custom", ["--format=custom"]), ("create", ["--create"]),
                              ("no_history", ["--exclude-table=django_migrations"])):
            variants[name] = tmp_path / f"{name}.dump"
            with variants[name].open("wb") as stream:
                backend.tools.dump_plain(scratch, options, stdout=stream)

    loads("gzip", variants["gzip"], then=dump_other_formats)
    for name in ("pg_dump_11_no_restrict", "custom", "create"):
        loads(name, variants[name])
    assert found == {name: (True, True, POINT_0005)
                     for name in ("gzip", "pg_dump_11_no_restrict", "custom", "create")}

    # Without a history, the migrations up to the schema's point are recorded (`migrate --fake`
    # per app) and every later one runs: 0010 makes each role's metadata key a MetadataKey.
    result = project.invoke("legacy", "--db", str(variants["no_history"]), "--name", "no-history",
                            "--keep-scratch")
    assert result.returncode == 0, result.stdout + result.stderr
    scratch = kept_scratch(result.stdout)
    try:
        keys = project.sql("SELECT key.name FROM data_collection_entityeventrole role JOIN "
                           "data_collection_metadatakey key ON key.id = role.metadata_key_id "
                           "ORDER BY role.name", scratch)
    finally:
        project.sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)', "postgres")
    assert keys == [("operator",), ("target",)]
    manifest = json.loads((project.root / "db_backups/bundles/no-history/manifest.json").read_text())
    assert manifest["started_from"] == POINT_0005 and manifest["history_rewritten"] is None
    # Real Mole has no admin: its table is made by migrate, the apps whose tables are there recorded.
    recorded = manifest["recorded_without_history"]
    assert [label.split(".")[0] for label in recorded[:2]] == ["contenttypes", "auth"]
    assert not any(label.startswith("admin.") for label in recorded)
    assert "The dump has no migration history" in result.stdout
    report = (project.root / "db_backups/bundles/no-history/REPORT.md").read_text()
    assert "The dump had no `django_migrations`" in report and recorded[0] in report
    assert manifest["verification"]["ok"] and not manifest["data"]["losses"]


SPEED_RULE = '''

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(speed__lte=10), name="pose_speed_at_most_10"),
        ]
'''


def pose_speeds(dump: Path) -> dict[int, float]:
    """Each pose's speed (id -> m/s) as the dump's COPY block holds it."""
    lines = dump.read_text().split("COPY public.data_collection_pose (", 1)[1].split("\n\\.\n", 1)[0]
    header, *rows = lines.splitlines()
    columns = header.split(")", 1)[0].split(", ")
    speeds = {}
    for row in rows:
        values = dict(zip(columns, row.split("\t")))
        if values["speed"] != "\\N":
            speeds[int(values["id"])] = float(values["speed"])
    return speeds


def test_old_rows_a_new_rule_rejects_are_diagnosed_and_a_reviewed_data_fix_lets_them_through(project):
    # Today's Mole gains a rule old experiments break: no pose faster than 10 m/s.
    models_file = project.root / "mole" / "data_collection" / "models" / "poses.py"
    models_file.write_text(models_file.read_text().replace(
        '        return f"{self.entity}/{self.pose_source} ({self.timestamp})"\n',
        '        return f"{self.entity}/{self.pose_source} ({self.timestamp})"\n' + SPEED_RULE))
    project.invoke("makemigrations", "--name", "pose_speed_at_most_10", check=True)
    dump = REAL_DUMPS[2]
    too_fast = sorted(pose for pose, speed in pose_speeds(dump).items() if speed > 10)
    assert too_fast

    first = project.invoke("legacy", "--db", str(dump), "--name", "fast")
    assert first.returncode == 3, first.stdout + first.stderr
    assert "cannot take the old data: Create constraint pose_speed_at_most_10" in first.stdout
    first_keys = ", ".join(str(pose) for pose in too_fast[:5])
    assert (f"data_collection_pose.speed: {len(too_fast)} rows break CHECK" in first.stdout
            and f"(first id: {first_keys})" in first.stdout), first.stdout
    [fix] = (project.root / MIGRATIONS).glob("*_legacy_mole_real_0010_data.py")
    text = fix.read_text()
    assert "REVIEWED = False" in text and "RUNS_BEFORE = 'data_collection.0012_pose_speed_at_most_10'" in text
    assert "# REVIEW:" in text and "review_replace_with_the_new_value()" in text
    assert not (project.root / "db_backups" / "bundles" / "fast").exists()

    # Reviewed, but the placeholder left in: the fix fails, in one line, and nothing is bundled.
    reviewed = text.replace("REVIEWED = False", "REVIEWED = True")
    fix.write_text(reviewed)
    placeholder_left = project.invoke("legacy", "--db", str(dump), "--name", "fast")
    assert placeholder_left.returncode == 2, placeholder_left.stdout + placeholder_left.stderr
    [line] = placeholder_left.stderr.splitlines()
    assert f"the data fix data_collection.{fix.stem} failed" in line and "step 1 of 1" in line
    assert "review_replace_with_the_new_value() does not exist" in line

    fix.write_text(reviewed.replace("review_replace_with_the_new_value()", "10"))
    result = project.invoke("legacy", "--db", str(dump), "--name", "fast", "--keep-scratch")
    assert result.returncode == 0, result.stdout + result.stderr
    scratch = kept_scratch(result.stdout)
    try:
        capped = project.sql("SELECT id FROM data_collection_pose WHERE speed = 10 ORDER BY id", scratch)
        kept = dict(project.sql("SELECT id, speed FROM legacy.data_collection_pose__speed "
                                "WHERE id = ANY(%s)", scratch, (too_fast,)))
    finally:
        project.sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)', "postgres")
    assert [pose for (pose,) in capped] == too_fast
    assert kept == {pose: speed for pose, speed in pose_speeds(dump).items() if pose in too_fast}
    manifest = json.loads((project.root / "db_backups/bundles/fast/manifest.json").read_text())
    assert manifest["data_fixes"] == [f"data_collection.{fix.stem}"]
    assert manifest["verification"]["ok"] and not manifest["data"]["losses"]
    assert any("values replaced in place by a data fix" in item for item in manifest["data"]["moved"])
    assert project.invoke("makemigrations", "--check").returncode == 0
