"""The legacy pipeline end to end on each shipped example (real server, real manage.py and pg_dump)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pty
import re
import shutil
import subprocess
import tarfile

from conftest import INVOKE
from conftest import LAST_POINT
from conftest import REPO
from conftest import SAMPLE_POSES

from schema.catalog import read_schema as snapshot
from schema.compare import compare
from schema.fingerprint import schema_fingerprint
from tooling.server.local_server import binaries_dir

EXAMPLES = REPO / "examples" / "legacy"
PLACEHOLDER = "NULL /* REVIEW: the value for rows that have none */"


def example_script():
    spec = importlib.util.spec_from_file_location(
        "make_legacy_examples", REPO / "scripts" / "make_legacy_examples.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scratch_databases(project) -> list[str]:
    rows = project.sql("SELECT datname FROM pg_database WHERE datname LIKE 'mole_scratch_%'", "postgres")
    return [row[0] for row in rows]


def bundles_of(project) -> list[str]:
    folder = project.root / "db_backups" / "bundles"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def manifest_of(project, name):
    return json.loads((project.root / "db_backups" / "bundles" / name / "manifest.json").read_text())


def snapshot_of(project, database):
    connection = project.server.connect(database)
    try:
        with connection.cursor() as cursor:
            return snapshot(cursor)
    finally:
        connection.close()


def test_an_old_mole_is_migrated_by_lineage_alone(project):
    result = project.invoke(
        "legacy", "--db", str(EXAMPLES / "old_mole_0005.sql"), "--name", "old", check=True
    )
    assert "matches data_collection.0005_entity_event_role exactly" in result.stdout
    manifest = manifest_of(project, "old")
    assert manifest["custom_migration"] is None
    header = re.search(r"-- Dumped by pg_dump version (\S+)", (EXAMPLES / "old_mole_0005.sql").read_text())
    assert manifest["source"]["dumped_by_pg_dump"] == header.group(1)
    assert manifest["lineage"]["exact"] == "data_collection.0005_entity_event_role"
    assert manifest["verification"]["ok"] is True
    before, after = manifest["row_counts"]["before"], manifest["row_counts"]["after"]
    for table, rows in before.items():
        if table.startswith("public.data_collection_"):
            assert after[table] == rows, table
    assert manifest["data"]["losses"] == []
    files = manifest["files"]
    assert set(files) == {"REPORT.md", "migrated.dump", "original/old_mole_0005.sql"}
    original = (EXAMPLES / "old_mole_0005.sql").read_bytes()
    assert files["original/old_mole_0005.sql"] == hashlib.sha256(original).hexdigest()
    assert "No custom migration was needed" in (project.root / "db_backups/bundles/old/REPORT.md").read_text()
    assert scratch_databases(project) == []


def test_a_diverged_schema_finds_its_committed_migration(project):
    result = project.invoke(
        "legacy", "--db", str(EXAMPLES / "divergent_registry.dump"), "--name", "reg", check=True
    )
    assert "Applying the custom migration data_collection.0011_legacy_divergent_registry" in result.stdout
    manifest = manifest_of(project, "reg")
    assert manifest["custom_migration"] == "data_collection.0011_legacy_divergent_registry"
    assert "migration/0011_legacy_divergent_registry.py" in manifest["files"]
    assert (
        "public.data_collection_calibration -> legacy.data_collection_calibration"
        in manifest["data"]["moved"]
    )
    assert manifest["row_counts"]["after"]["legacy.data_collection_calibration"] == 3
    assert manifest["verification"]["checks"]["schema_matches_reference"]["ok"] is True


def test_a_new_divergence_gets_a_draft_which_once_reviewed_makes_the_pipeline_succeed(project):
    dump = str(EXAMPLES / "divergent_draft.sql")
    result = project.invoke("legacy", "--db", dump)
    assert result.returncode == 3, result.stdout + result.stderr
    [draft] = (project.root / "mole/data_collection/migrations").glob("*_legacy_divergent_draft.py")
    text = draft.read_text()
    assert "REVIEWED = False" in text and PLACEHOLDER in text
    assert "1 row of data_collection_campaign has NULL in description" in result.stdout
    assert bundles_of(project) == [] and scratch_databases(project) == []

    unreviewed = project.invoke("legacy", "--db", dump)
    assert unreviewed.returncode == 2 and "a draft nobody reviewed" in unreviewed.stderr

    draft.write_text(text.replace(PLACEHOLDER, "''").replace("REVIEWED = False", "REVIEWED = True"))
    project.invoke("legacy", "--db", dump, "--name", "drafted", check=True)
    manifest = manifest_of(project, "drafted")
    assert manifest["verification"]["ok"] is True
    assert (
        "public.data_collection_trial.weather_text -> legacy.data_collection_trial__weather_text.weather_text"
        in (manifest["data"]["moved"])
    )
    assert project.invoke("makemigrations", "--check").returncode == 0


def test_an_archive_brings_its_media_into_the_bundle(project):
    archive = EXAMPLES / "mole_archive_0008.tar.gz"
    project.invoke("legacy", "--db", str(archive), "--name", "arch", check=True)
    manifest = manifest_of(project, "arch")
    assert manifest["source"]["format"] == "Mole archive"
    with tarfile.open(archive) as members:
        media = {
            m.name: hashlib.sha256(members.extractfile(m).read()).hexdigest()
            for m in members.getmembers()
            if m.name.startswith("mole_media/")
        }
    assert media and {name: manifest["files"][name] for name in media} == media


def test_the_diff_finds_exactly_what_each_example_script_changed(project, tmp_path):
    for name, divergence in example_script().DIVERGENCES.items():
        suffix = ".dump" if name == "divergent_registry" else ".sql"
        report = tmp_path / f"{name}.json"
        result = project.invoke("diff", "--db", str(EXAMPLES / f"{name}{suffix}"), "--json", str(report))
        assert result.returncode == 1, result.stdout + result.stderr
        found = json.loads(report.read_text())
        reported = {
            (d["kind"], d["table"], d["object"]) for d in found["differences"] + found["name_differences"]
        }
        assert reported == set(divergence["expected"]), name
        assert found["lineage"]["exact"] is None
    renames = found_renames(tmp_path / "divergent_registry.json")
    assert renames == [
        {"kind": "column", "table": "data_collection_entity", "old": "serial_no", "new": "physical_id"}
    ]


def found_renames(path):
    return json.loads(path.read_text())["rename_candidates"]


def test_diff_reports_lineage_and_compares_two_dumps(project, tmp_path):
    old = project.invoke("diff", "--db", str(EXAMPLES / "old_mole_0005.sql"))
    assert old.returncode == 1
    assert "Lineage: matches data_collection.0005_entity_event_role exactly" in old.stdout
    report = tmp_path / "against.json"
    result = project.invoke(
        "diff",
        "--db",
        str(EXAMPLES / "old_mole_0005.sql"),
        "--against",
        str(EXAMPLES / "mole_archive_0008.tar.gz"),
        "--json",
        str(report),
    )
    assert result.returncode == 1
    kinds = {(d["kind"], d["table"]) for d in json.loads(report.read_text())["differences"]}
    # Real Mole's 0006-0008 (and automation's 0001) only added: pose speed and velocity, the
    # automation tables, entity states. The older dump lacks them and has nothing of its own.
    assert {("column_missing", "data_collection_pose"), ("table_missing", "automation_script"),
            ("table_missing", "data_collection_entitystate")} <= kinds
    assert all(kind.endswith("_missing") for kind, _ in kinds), kinds
    project.invoke("legacy", "--db", str(EXAMPLES / "old_mole_0005.sql"), "--name", "old", check=True)
    migrated = project.root / "db_backups/bundles/old/migrated.dump"
    same = project.invoke("diff", "--db", str(migrated))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "No differences" in same.stdout


def test_a_fresh_database_passes_through_every_custom_migration_unchanged(project):
    project.invoke("migrate", check=True)
    at_head = snapshot_of(project, project.database)
    # Back to the last migration before any custom one, and forward again: no change either way.
    project.invoke("migrate", "--app", "data_collection", "--target", "0010", check=True)
    at_parent = snapshot_of(project, project.database)
    project.invoke("migrate", check=True)
    assert compare(at_parent, at_head) == []
    assert compare(at_head, snapshot_of(project, project.database)) == []
    assert project.sql("SELECT to_regclass('legacy.alignments')")[0][0] is None
    assert project.invoke("verify").returncode == 0


def test_unapplying_a_custom_migration_gives_back_the_legacy_schema(project):
    result = project.invoke(
        "legacy", "--db", str(EXAMPLES / "divergent_registry.dump"), "--keep-scratch", check=True
    )
    scratch = next(
        line.split()[-1].rstrip(".")
        for line in result.stdout.splitlines()
        if line.startswith("Kept the scratch database")
    )
    try:
        project.invoke(
            "migrate",
            "--app",
            "data_collection",
            "--target",
            "0010",
            check=True,
            extra_env={"INVOKE_MOLE_DATABASE": scratch},
        )
        assert schema_fingerprint(snapshot_of(project, scratch)) == "868d5ec167db57f5"
        assert project.sql("SELECT count(*) FROM data_collection_calibration", scratch)[0][0] == 3
    finally:
        project.sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)', "postgres")


def test_draft_migration_proposes_renames_as_renames(project):
    committed = project.root / "mole/data_collection/migrations/0011_legacy_divergent_registry.py"
    committed.unlink()
    result = project.invoke(
        "draft-migration",
        "--db",
        str(EXAMPLES / "divergent_registry.dump"),
        "--name",
        "field-test",
        check=True,
    )
    draft = project.root / "mole/data_collection/migrations/0011_legacy_field_test.py"
    assert f"Wrote the draft {draft}" in result.stdout
    text = draft.read_text()
    assert 'RENAME COLUMN "serial_no" TO "physical_id"' in text
    assert "DROP COLUMN" not in text and "DROP TABLE" not in text
    assert 'LEGACY_FINGERPRINT = "868d5ec167db57f5"' in text
    assert 'dependencies = [("data_collection", "0010_create_metadata_keys_values")]' in text
    assert project.invoke("makemigrations", "--check").returncode == 0
    exact = project.invoke("draft-migration", "--db", str(EXAMPLES / "old_mole_0005.sql"), "--name", "x")
    assert exact.returncode == 2 and "no migration needed" in exact.stderr


def test_loading_shows_progress_on_a_terminal_only(project):
    env = {key: value for key, value in project.env.items() if key != "CI"}
    args = [INVOKE, "diff", "--db", str(EXAMPLES / "old_mole_0005.sql")]
    quiet = subprocess.run(args, cwd=project.root, env=env, capture_output=True, text=True)
    assert "MiB" not in quiet.stdout + quiet.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait()
    os.close(leader)
    size = f"{(EXAMPLES / 'old_mole_0005.sql').stat().st_size / 2**20:.1f}"
    assert f"Loading: {size} of {size} MiB (100%)".encode() in output, output


def test_a_dump_with_drops_owners_and_grants_of_another_server_loads(migrated, tmp_path):
    """`pg_dump --clean` as another server makes it: roles that do not exist here, DROPs first."""
    dumped = subprocess.run(
        [
            str(binaries_dir() / "pg_dump"),
            "-U",
            "postgres",
            "--clean",
            f"--dbname={migrated.database}",
        ],
        env={**os.environ, **migrated.server.environment},
        capture_output=True,
        check=True,
    ).stdout.decode()
    foreign, owners = re.subn(r"OWNER TO \w+;", "OWNER TO field_lab;", dumped)
    assert owners and "DROP TABLE" in dumped
    foreign += "GRANT ALL ON SCHEMA public TO field_lab;\n"
    source = tmp_path / "field_lab.sql"
    source.write_text(
        foreign.replace("-- PostgreSQL database dump complete", "") + "-- PostgreSQL database dump complete\n"
    )
    result = migrated.invoke("legacy", "--db", str(source), "--name", "foreign", check=True)
    assert "exactly" in result.stdout
    manifest = manifest_of(migrated, "foreign")
    assert manifest["row_counts"]["after"]["public.data_collection_pose"] == SAMPLE_POSES
    # Its records say head, and head has its schema: nothing is taken back and re-run (the custom
    # migration at the end is no point of the history, and is kept as recorded).
    assert manifest["started_from"] == LAST_POINT
    assert manifest["history_rewritten"] == {"removed": [], "added": []}


def test_an_old_mole_whose_records_claim_more_than_its_schema_has_is_migrated_from_its_schema(
    project, tmp_path
):
    """The schema decides: records of 0006-0008 that the schema does not show are taken back first."""
    text = (EXAMPLES / "old_mole_0005.sql").read_text()
    claims = "".join(
        "INSERT INTO public.django_migrations (app, name, applied) "
        f"VALUES ('{app}', '{name}', now());\n"
        for app, name in (("data_collection", "0006_pose_speed"), ("automation", "0001_initial"),
                          ("data_collection", "0007_scenario_scripts"),
                          ("data_collection", "0008_entity_state"))
    )
    trailer = "-- PostgreSQL database dump complete"
    source = tmp_path / "overclaiming.sql"
    source.write_text(text.replace(trailer, claims + trailer))
    result = project.invoke("legacy", "--db", str(source), "--name", "claims", check=True)
    assert "recording migrations up to data_collection.0005_entity_event_role as applied" in result.stdout
    manifest = manifest_of(project, "claims")
    assert manifest["verification"]["ok"] is True
    assert manifest["started_from"] == "data_collection.0005_entity_event_role"
    listing = project.invoke("bundles", check=True).stdout
    assert "lineage from 0005_entity_event_role" in listing


def test_every_example_is_under_a_megabyte():
    examples = sorted(EXAMPLES.iterdir())
    assert len(examples) == 4
    sizes = {path.name: path.stat().st_size for path in examples}
    assert all(size < 2**20 for size in sizes.values()), sizes


def test_a_file_name_with_letters_beyond_ascii_gets_a_safe_bundle_name(project, tmp_path):
    source = tmp_path / "old mole é 0005.sql"
    shutil.copy2(EXAMPLES / "old_mole_0005.sql", source)
    result = project.invoke("legacy", "--db", str(source), check=True)
    [bundle] = bundles_of(project)
    assert bundle.startswith("old-mole-0005_") and f"Bundle: {project.root}" in result.stdout
