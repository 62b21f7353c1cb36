"""Every daily task end to end on the local backend: real server, real manage.py, real pg_dump."""
from __future__ import annotations

import json

from conftest import AUTOMATION_FILES
from conftest import HEAD
from conftest import MIGRATION_FILES
from conftest import NEXT_NUMBER
from conftest import SAMPLE_POSES

from tooling.server.local_server import postgres_major

MODEL_CHANGE = (
    "\n\nfrom django.contrib.gis.db import models  # noqa: E402\n\n\n"
    "class SoilSample(models.Model):\n"
    "    trial = models.ForeignKey(Trial, on_delete=models.CASCADE)\n"
    "    moisture = models.FloatField()\n"
)
# The models are a package; every model is importable from its __init__.
MODELS_FILE = "mole/data_collection/models/__init__.py"


def count_poses(project) -> int:
    return project.sql("SELECT count(*) FROM data_collection_pose")[0][0]


def test_migrate_sample_data_and_verify_pass(migrated, tmp_path):
    for cached in (migrated.server.data_dir / "cache").glob("reference-*.json"):
        cached.unlink()  # build the reference afresh: its scratch database must be dropped after
    report_path = tmp_path / "verify.json"
    result = migrated.invoke("verify", "--json", str(report_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is compliant" in result.stdout
    report = json.loads(report_path.read_text())
    assert report["ok"] is True and report["differences"] == []
    assert count_poses(migrated) == SAMPLE_POSES
    scratch = migrated.sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'mole_scratch_%'", "postgres")
    assert scratch[0][0] == 0


def test_verify_catches_a_column_altered_and_an_index_dropped_by_hand(migrated, tmp_path):
    migrated.sql("ALTER TABLE data_collection_pose ALTER COLUMN speed TYPE numeric")
    migrated.sql("DROP INDEX data_collection_pose_point_fd6caf04_id")
    report_path = tmp_path / "verify.json"
    result = migrated.invoke("verify", "--json", str(report_path))
    assert result.returncode == 1
    assert "data_collection_pose.speed: column type differs" in result.stdout
    assert "index missing: data_collection_pose_point_fd6caf04_id" in result.stdout
    kinds = {(d["kind"], d["table"]) for d in json.loads(report_path.read_text())["differences"]}
    assert kinds == {("column_type", "data_collection_pose"), ("index_missing", "data_collection_pose")}


def test_verify_catches_an_unapplied_migration(migrated):
    migrated.invoke("migrate", "--app", "data_collection", "--target", "0009", check=True)
    result = migrated.invoke("verify")
    assert result.returncode == 1
    tenth = next(name for name in MIGRATION_FILES if name.startswith("0010"))
    assert f"migration not applied: data_collection.{tenth}" in result.stdout
    assert "table missing" in result.stdout


def test_model_change_without_migration_fails_check_and_verify(migrated):
    models_file = migrated.root / MODELS_FILE
    models_file.write_text(models_file.read_text() + MODEL_CHANGE)
    check = migrated.invoke("makemigrations", "--check")
    assert check.returncode != 0
    assert "models changed without a migration" in check.stderr
    result = migrated.invoke("verify")
    assert result.returncode == 1
    assert "models changed without a migration" in result.stdout
    assert "Create model SoilSample" in result.stdout


def test_makemigrations_writes_the_migration_into_the_tree(migrated):
    models_file = migrated.root / MODELS_FILE
    models_file.write_text(models_file.read_text() + MODEL_CHANGE)
    migrated.invoke("makemigrations", "--name", "soil_sample", check=True)
    assert (migrated.root / f"mole/data_collection/migrations/{NEXT_NUMBER}_soil_sample.py").exists()
    assert migrated.invoke("makemigrations", "--check").returncode == 0
    migrated.invoke("migrate", check=True)
    assert migrated.invoke("verify").returncode == 0


def test_migrate_plan_and_fake(project):
    plan = project.invoke("migrate", "--plan", check=True)
    assert "data_collection.0001_initial" in plan.stdout and "Create model Location" in plan.stdout
    assert project.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'data_collection_pose'")[0][0] == 0
    project.invoke("migrate", "--app", "contenttypes", check=True)
    project.invoke("migrate", "--app", "auth", "--target", "zero", "--fake", check=True)
    applied = project.sql("SELECT count(*) FROM django_migrations WHERE app = 'auth'")[0][0]
    assert applied == 0


def test_status_reports_head_and_unapplied(migrated):
    migrated.invoke("migrate", "--app", "data_collection", "--target", "0008", check=True)
    result = migrated.invoke("status", check=True)
    assert "local (PostgreSQL with PostGIS" in result.stdout
    assert f"PostgreSQL {postgres_major()}." in result.stdout
    at = next(name for name in MIGRATION_FILES if name.startswith("0008"))
    # automation's last migration needs nothing after data_collection 0008: it stays applied.
    assert f"head:       data_collection.{at} + automation.{AUTOMATION_FILES[-1]}" in result.stdout
    later = [name for name in MIGRATION_FILES if name[:4] > "0008"]
    assert f"unapplied:  {len(later)}" in result.stdout


def test_backup_writes_dump_and_manifest(migrated):
    result = migrated.invoke("backup", "--label", "nightly", check=True)
    [dump] = migrated.backups.glob("*_nightly.dump")
    manifest = json.loads(dump.with_suffix(".json").read_text())
    assert manifest["size_bytes"] == dump.stat().st_size
    assert manifest["migration_head"] == HEAD
    assert manifest["server_version"].startswith(f"{postgres_major()}.")
    assert f"pg_dump (PostgreSQL) {postgres_major()}." in manifest["pg_dump_version"]
    assert dump.read_bytes()[:5] == b"PGDMP"
    assert str(dump) in result.stdout
    listing = migrated.invoke("backups", check=True)
    assert dump.stem in listing.stdout and MIGRATION_FILES[-1] in listing.stdout


def test_backup_to_an_unwritable_target_leaves_nothing(migrated):
    blocker = migrated.root / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    result = migrated.invoke("backup", extra_env={"INVOKE_MOLE_BACKUPS_DIR": str(blocker)})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: cannot create the backup folder")
    assert len(result.stderr.strip().splitlines()) == 1
    assert blocker.read_text().startswith("a file")


def test_failed_pg_dump_leaves_no_partial_file(migrated):
    """pg_dump gives up on a table locked by someone else: no dump, no manifest, no temporary file."""
    locker = migrated.server.connect(migrated.database)
    try:
        with locker.cursor() as cursor:
            cursor.execute("LOCK TABLE data_collection_pose IN ACCESS EXCLUSIVE MODE")
            result = migrated.invoke(
                "backup", "--label", "blocked", extra_env={"INVOKE_MOLE_LOCK_WAIT_TIMEOUT": "1s"}
            )
    finally:
        locker.rollback()
        locker.close()
    assert result.returncode == 2
    assert result.stderr.startswith("error: pg_dump failed") and "timeout" in result.stderr
    assert list(migrated.backups.iterdir()) == []


def test_bad_label_is_refused(migrated):
    result = migrated.invoke("backup", "--label", "../escape")
    assert result.returncode == 2
    assert "is not allowed" in result.stderr
    assert not migrated.backups.exists()


def test_restore_replaces_live_database_after_safety_backup(migrated):
    migrated.invoke("backup", "--label", "good", check=True)
    [good] = migrated.backups.glob("*_good.dump")
    migrated.sql("TRUNCATE data_collection_pose CASCADE")  # events point at their start poses
    result = migrated.invoke("restore", "--backup", good.stem, "--yes", check=True)
    assert count_poses(migrated) == SAMPLE_POSES
    [safety] = migrated.backups.glob("*_before-restore.dump")
    assert safety.stem in result.stdout
    assert migrated.invoke("verify").returncode == 0


def test_restore_asks_first_and_refuses_without_a_terminal(migrated):
    migrated.invoke("backup", "--label", "good", check=True)
    [good] = migrated.backups.glob("*_good.dump")
    migrated.sql("DELETE FROM data_collection_note")
    result = migrated.invoke("restore", "--backup", good.stem)
    assert result.returncode == 2
    assert "pass --yes" in result.stderr
    assert migrated.sql("SELECT count(*) FROM data_collection_note")[0][0] == 0
    assert list(migrated.backups.glob("*_before-restore.dump")) == []


def test_restore_of_a_corrupted_backup_leaves_live_database_intact(migrated):
    migrated.invoke("backup", "--label", "good", check=True)
    [good] = migrated.backups.glob("*_good.dump")
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    good.write_bytes(bytes(data))
    migrated.sql("DELETE FROM data_collection_note")
    result = migrated.invoke("restore", "--backup", good.stem, "--yes")
    assert result.returncode == 2
    assert "is damaged" in result.stderr
    assert migrated.sql("SELECT count(*) FROM data_collection_note")[0][0] == 0
    assert count_poses(migrated) == SAMPLE_POSES


def test_failed_pg_restore_leaves_live_database_intact(migrated):
    """A truncated dump whose manifest matches it: pg_restore itself must fail, and change nothing."""
    migrated.invoke("backup", "--label", "good", check=True)
    [good] = migrated.backups.glob("*_good.dump")
    from tooling.backups.backup_store import sha256_of

    good.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    manifest_path = good.with_suffix(".json")
    manifest = json.loads(manifest_path.read_text())
    manifest["sha256"] = sha256_of(good)
    manifest_path.write_text(json.dumps(manifest))
    migrated.sql("INSERT INTO data_collection_posesource (name, description) VALUES ('marker', '')")
    result = migrated.invoke("restore", "--backup", good.stem, "--yes")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert migrated.sql("SELECT count(*) FROM data_collection_posesource WHERE name = 'marker'")[0][0] == 1
    staging = migrated.sql(
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'mole|_scratch|_restore|_%' ESCAPE '|'",
        "postgres",
    )
    assert staging[0][0] == 0


def test_a_malformed_manifest_is_one_line_and_leaves_the_listing_whole(migrated):
    for label in ("kept", "broken"):
        migrated.invoke("backup", "--label", label, check=True)
    [broken] = migrated.backups.glob("*_broken.json")
    manifest = json.loads(broken.read_text())
    assert manifest["manifest_version"] == 2
    del manifest["created_utc"]
    broken.write_text(json.dumps(manifest))
    listing = migrated.invoke("backups")
    assert listing.returncode == 0, listing.stderr
    assert [line.split()[0].split("_", 1)[1] for line in listing.stdout.splitlines()[1:]] == ["kept"]
    assert f"note: left out: the manifest of backup {broken.stem} is malformed" in listing.stderr
    refused = migrated.invoke("restore", "--backup", broken.stem, "--yes")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: the manifest of backup {broken.stem} is malformed (top level): "
        "'created_utc' is a required property"
    ]


def test_restore_of_unknown_or_unsafe_name(migrated):
    assert "no backup named" in migrated.invoke("restore", "--backup", "nope", "--yes").stderr
    unsafe = migrated.invoke("restore", "--backup", "../../etc/passwd", "--yes")
    assert unsafe.returncode == 2 and "is not allowed" in unsafe.stderr


def test_prune_backups_keeps_the_newest(migrated):
    for label in ("one", "two", "three"):
        migrated.invoke("backup", "--label", label, check=True)
    migrated.invoke("prune-backups", "--keep", "1", check=True)
    assert [path.name.split("_", 1)[1] for path in sorted(migrated.backups.iterdir())] == [
        "three.dump",
        "three.json",
    ]


def test_dry_run_prints_commands_and_changes_nothing(migrated):
    result = migrated.invoke("--dry", "backup", "--label", "dry", check=True)
    assert "pg_dump --format=custom --no-owner --no-privileges" in result.stdout
    assert f"--dbname={migrated.database} > " in result.stdout
    assert not migrated.backups.exists()
    migrate = migrated.invoke("--dry", "migrate", "--app", "data_collection", "--target", "0004", check=True)
    assert "manage.py migrate --no-input data_collection 0004" in migrate.stdout
    assert migrated.sql("SELECT count(*) FROM data_collection_pose")[0][0] == SAMPLE_POSES


def test_restore_refuses_to_go_on_when_the_safety_backup_fails(migrated):
    migrated.invoke("backup", "--label", "good", check=True)
    [good] = migrated.backups.glob("*_good.dump")
    migrated.sql("INSERT INTO data_collection_posesource (name, description) VALUES ('marker', '')")
    locker = migrated.server.connect(migrated.database)
    try:
        with locker.cursor() as cursor:
            cursor.execute("LOCK TABLE data_collection_pose IN ACCESS EXCLUSIVE MODE")
            result = migrated.invoke(
                "restore", "--backup", good.stem, "--yes",
                extra_env={"INVOKE_MOLE_LOCK_WAIT_TIMEOUT": "1s"},
            )
    finally:
        locker.rollback()
        locker.close()
    assert result.returncode == 2
    assert result.stderr.startswith("error: pg_dump failed")
    assert migrated.sql("SELECT count(*) FROM data_collection_posesource WHERE name = 'marker'")[0][0] == 1
    left = sorted(path.name.split("_", 1)[1] for path in migrated.backups.iterdir())
    assert left == ["good.dump", "good.json"]
