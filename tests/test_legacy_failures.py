"""Bad input and failed or interrupted runs: one clear error line, and nothing left behind or lost."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import time

import pytest
from conftest import INVOKE
from conftest import REPO
from conftest import SAMPLE_POSES
from conftest import with_bundle
from test_legacy_examples import EXAMPLES
from test_legacy_examples import bundles_of
from test_legacy_examples import scratch_databases

from tooling.legacy.bundle_store import BundleStore
from tooling.server.local_server import binaries_dir
from tooling.server.local_server import postgres_major

REGISTRY_MIGRATION = "mole/data_collection/migrations/0011_legacy_divergent_registry.py"
CREATE_INDEX_STEP = "Create index data_collection_pose_point_fd6caf04_id"


def pose_count(project) -> int:
    return project.sql("SELECT count(*) FROM data_collection_pose")[0][0]


def assert_refused(project, result, message: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert scratch_databases(project) == []
    assert bundles_of(project) == []


def tar_with(path, member: tarfile.TarInfo, data: bytes = b"") -> None:
    with tarfile.open(path, "w:gz") as archive:
        archive.addfile(member, io.BytesIO(data) if member.isfile() else None)


def symlink(name, target):
    member = tarfile.TarInfo(name)
    member.type = tarfile.SYMTYPE
    member.linkname = target
    return member


def truncated(source, target, fraction=0.5):
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def cut_in_a_statement(folder):
    data = (EXAMPLES / "old_mole_0005.sql").read_bytes()
    return written(folder / "cut.sql", data[: data.index(b"CREATE TABLE public.data_collection_pose") + 30])


def written(path, data: bytes):
    path.write_bytes(data)
    return path


def not_mole_dump(project, tmp_path):
    """A real pg_dump of a database that has nothing of Mole's."""
    project.server.sql("postgres", "CREATE DATABASE not_mole")
    try:
        project.server.sql("not_mole", "CREATE TABLE inventory (id int PRIMARY KEY, item text)")
        target = tmp_path / "not_mole.sql"
        with target.open("wb") as stream:
            subprocess.run(
                [str(binaries_dir() / "pg_dump"), "-U", "postgres", "--dbname=not_mole"],
                stdout=stream,
                env={**os.environ, **project.server.environment},
                check=True,
            )
    finally:
        project.server.sql("postgres", "DROP DATABASE not_mole WITH (FORCE)")
    return target


def tar_format_dump(project, tmp_path):
    """pg_dump's own tar format (toc.dat and data files), which is not a Mole archive."""
    target = tmp_path / "mole.tar"
    argv = [str(binaries_dir() / "pg_dump"), "-U", "postgres", "--format=tar", f"--file={target}",
            f"--dbname={project.database}"]
    subprocess.run(argv, env={**os.environ, **project.server.environment}, check=True)
    return target


def gzip_cut(tmp_path):
    whole = gzip.compress((EXAMPLES / "old_mole_0005.sql").read_bytes())
    return written(tmp_path / "cut.sql.gz", whole[: len(whole) // 2])


@pytest.mark.parametrize(
    "make_input, message",
    [
        (lambda p, t: written(t / "empty.sql", b""), "is empty"),
        (lambda p, t: written(t / "notes.txt", b"field notes, day 3\n"), "is not a PostgreSQL dump"),
        (lambda p, t: written(t / "photo.bin", os.urandom(4096)), "is not a PostgreSQL dump"),
        (lambda p, t: truncated(EXAMPLES / "old_mole_0005.sql", t / "cut.sql"), "is truncated"),
        (lambda p, t: cut_in_a_statement(t), "is truncated: it ends inside the statement of line"),
        (lambda p, t: truncated(EXAMPLES / "divergent_registry.dump", t / "cut.dump"), "pg_restore failed"),
        (lambda p, t: truncated(EXAMPLES / "mole_archive_0008.tar.gz", t / "cut.tar.gz", 0.7), "damaged"),
        (lambda p, t: gzip_cut(t), "truncated or damaged"),
        (lambda p, t: not_mole_dump(p, t), "it is not a Mole database"),
        (lambda p, t: t / "missing.sql", "cannot read"),
        (tar_format_dump, "pg_dump tar-format archive"),
    ],
    ids=[
        "empty",
        "text",
        "random",
        "cut-sql",
        "cut-in-statement",
        "cut-custom",
        "cut-archive",
        "cut-gzip",
        "not-mole",
        "missing",
        "pg-tar",
    ],
)
def test_bad_input_is_refused_in_one_line_and_the_live_database_is_untouched(
    migrated, tmp_path, make_input, message
):
    before = pose_count(migrated)
    source = make_input(migrated, tmp_path)
    result = migrated.invoke("legacy", "--db", str(source))
    assert_refused(migrated, result, message)
    assert pose_count(migrated) == before


@pytest.mark.parametrize(
    "member, message",
    [
        (tarfile.TarInfo("../escape.sql"), "outside the folder"),
        (tarfile.TarInfo("/etc/escape.sql"), "outside the folder"),
        (symlink("mole_media/link", "/etc/passwd"), "a link or device"),
    ],
    ids=["dotdot", "absolute", "symlink"],
)
def test_unsafe_archive_members_are_refused_before_extraction(project, tmp_path, member, message):
    archive = tmp_path / "evil.tar.gz"
    tar_with(archive, member, b"SELECT 1;\n")
    result = project.invoke("legacy", "--db", str(archive))
    assert_refused(project, result, message)
    assert not (tmp_path.parent / "escape.sql").exists()


def test_the_sql_is_loaded_from_gzip_too(project, tmp_path):
    packed = tmp_path / "old.sql.gz"
    packed.write_bytes(gzip.compress((EXAMPLES / "old_mole_0005.sql").read_bytes()))
    result = project.invoke("legacy", "--db", str(packed), "--name", "gz", check=True)
    assert "(gzip-compressed SQL)" in result.stdout


def test_bad_names_and_missing_migrations_are_refused(project):
    dump = str(EXAMPLES / "old_mole_0005.sql")
    assert_refused(project, project.invoke("legacy", "--db", dump, "--name", "../outside"), "is not allowed")
    assert_refused(
        project,
        project.invoke("legacy", "--db", dump, "--migration", "0099_nothing"),
        "no migration '0099_nothing'",
    )
    assert_refused(project, project.invoke("bundle-check", "--name", "../x"), "is not allowed")
    assert_refused(project, project.invoke("--dry", "legacy", "--db", dump), "--dry is not supported here")
    wrong = project.invoke("legacy", "--db", dump, "--migration", "0011_legacy_divergent_registry")
    assert_refused(project, wrong, "handles the schema 868d5ec167db57f5")


def test_a_fifo_or_a_folder_as_input_is_refused_at_once(project, tmp_path):
    """Nothing writes to the FIFO: opening it to read would wait for ever."""
    fifo = tmp_path / "old.sql"
    os.mkfifo(fifo)
    assert_refused(project, project.invoke("legacy", "--db", str(fifo)), f"{fifo} is not a file")
    assert_refused(project, project.invoke("legacy", "--db", str(tmp_path)), f"cannot read {tmp_path}")


def test_a_missing_input_or_name_is_bad_input_in_one_line(project):
    """Not invoke's own parse error (exit status 1): the tasks' rule for bad input."""
    for argv, option in ((["legacy"], "--db FILE"), (["legacy", "--db", ""], "--db FILE"),
                         (["diff"], "--db FILE"),
                         (["draft-migration", "--name", "x"], "--db FILE"),
                         (["draft-migration", "--db", "old.sql"], "--name NAME"),
                         (["bundle-check"], "--name NAME")):
        assert_refused(project, project.invoke(*argv), f"{option} is required (invoke {argv[0]} --help)")


def test_a_refused_load_with_keep_scratch_names_the_database_it_kept(project, tmp_path):
    text = (EXAMPLES / "old_mole_0005.sql").read_text()
    dump = tmp_path / "with_role.sql"
    dump.write_text(text.replace("CREATE TABLE", "CREATE ROLE intruder;\nCREATE TABLE", 1))
    result = project.invoke("legacy", "--db", str(dump), "--keep-scratch")
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    kept = re.search(r"CREATE ROLE acts on the server.* \(kept the scratch database (\S+)\)$", line)
    assert kept, line
    try:
        found = project.sql(f"SELECT count(*) FROM pg_database WHERE datname = '{kept[1]}'", "postgres")
        assert found == [(1,)]
    finally:
        project.sql(f'DROP DATABASE IF EXISTS "{kept[1]}"', "postgres")


def test_an_existing_bundle_is_never_overwritten(project):
    dump = str(EXAMPLES / "old_mole_0005.sql")
    project.invoke("legacy", "--db", dump, "--name", "first", check=True)
    manifest = (project.root / "db_backups/bundles/first/manifest.json").read_text()
    result = project.invoke("legacy", "--db", dump, "--name", "first")
    assert result.returncode == 2 and "exists already" in result.stderr
    assert (project.root / "db_backups/bundles/first/manifest.json").read_text() == manifest
    # A default name is never refused: it gets the next free suffix instead.
    store = BundleStore(project.root / "db_backups/bundles")
    assert store.free_name("first", exact=False) == "first-2"
    (project.root / "db_backups/bundles/first-2").mkdir()
    assert store.free_name("first", exact=False) == "first-3"


def test_an_incomplete_custom_migration_is_stopped_at_its_point_and_writes_no_bundle(project):
    migration = project.root / REGISTRY_MIGRATION
    text = migration.read_text()
    start = text.index("    Step(\n        'Create index")
    migration.write_text(text[:start] + text[text.index("    ),\n", start) + len("    ),\n") :])
    result = project.invoke("legacy", "--db", str(EXAMPLES / "divergent_registry.dump"))
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.splitlines()
    assert "after data_collection.0011_legacy_divergent_registry the schema is not Mole at" in line
    assert "index missing: data_collection_pose_point_fd6caf04_id" in line
    assert bundles_of(project) == [] and scratch_databases(project) == []
    assert not list((project.root / "db_backups").glob("bundles/.*"))


def test_plain_migrate_refuses_an_alignment_whose_point_the_database_has_passed(project):
    """The legacy dump restored as it is, its history recording 0010, and an alignment that belongs
    at 0005: `migrate` would have skipped 0006 to 0010 on that schema, so the alignment refuses and
    nothing changes."""
    migration = project.root / REGISTRY_MIGRATION
    point = "data_collection.0005_entity_event_role"
    migration.write_text(re.sub(r'^ALIGNS_TO = ".*"$', f'ALIGNS_TO = "{point}"', migration.read_text(),
                                flags=re.MULTILINE))
    project.sql(f'CREATE DATABASE "{project.database}" TEMPLATE template0', "postgres")
    subprocess.run([str(binaries_dir() / "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                    f"--dbname={project.database}", str(EXAMPLES / "divergent_registry.dump")],
                   env={**os.environ, **project.server.environment}, check=True, capture_output=True)
    result = project.invoke("migrate")
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.splitlines()
    assert line == ("error: manage.py migrate failed (exit status 1): MisplacedAlignment: "
                    f"0011_legacy_divergent_registry aligns the schema at {point}, but this database has "
                    "recorded 5 later migrations as applied without running them on it "
                    "(data_collection.0006_pose_speed first): run `invoke legacy` on the dump instead")
    # The alignment's first step (serial_no renamed to physical_id) did not run.
    columns = project.sql("SELECT column_name FROM information_schema.columns "
                          "WHERE table_name = 'data_collection_entity' AND column_name = 'serial_no'")
    assert columns == [("serial_no",)]


def test_data_loss_is_refused_unless_allowed_and_then_named(project):
    migration = project.root / REGISTRY_MIGRATION
    text = migration.read_text()
    move = 'CREATE SCHEMA IF NOT EXISTS legacy; ALTER TABLE "data_collection_calibration" SET SCHEMA legacy'
    assert move in text
    migration.write_text(text.replace(move, 'DROP TABLE "data_collection_calibration"'))
    dump = str(EXAMPLES / "divergent_registry.dump")
    refused = project.invoke("legacy", "--db", dump)
    assert refused.returncode == 1
    assert "data lost: public.data_collection_calibration: table dropped with its 3 rows" in refused.stdout
    assert bundles_of(project) == []
    project.invoke("legacy", "--db", dump, "--name", "lossy", "--allow-data-loss", check=True)
    manifest = json.loads((project.root / "db_backups/bundles/lossy/manifest.json").read_text())
    assert manifest["data"]["losses"] == ["public.data_collection_calibration: table dropped with its 3 rows"]
    assert "Dropped (allowed)" in (project.root / "db_backups/bundles/lossy/REPORT.md").read_text()


def test_an_interrupted_run_drops_its_scratch_database(project, tmp_path):
    header = (EXAMPLES / "old_mole_0005.sql").read_text().split("SET statement_timeout")[0]
    slow = tmp_path / "slow.sql"
    slow.write_text(header + "SELECT pg_sleep(60);\n-- PostgreSQL database dump complete\n")
    process = subprocess.Popen(
        [INVOKE, "legacy", "--db", str(slow)],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    # Interrupt it while the dump's own statement runs: the load role's session, mid-load.
    loading = "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()"
    while not project.sql(loading, "postgres"):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.2)
    assert scratch_databases(project)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "interrupted" in err
    assert scratch_databases(project) == [] and bundles_of(project) == []


def test_ctrl_c_after_the_bundle_is_complete_keeps_it_and_says_so(project):
    """An interrupt during the clean-up after the bundle (the scratch database's drop) no longer
    turns a complete bundle into a failed run."""
    process = subprocess.Popen(
        [INVOKE, "legacy", "--db", str(EXAMPLES / "old_mole_0005.sql"), "--name", "late-interrupt"],
        cwd=project.root, env={**project.env, "MOLE_PAUSE_AT": "legacy-bundled"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    paused = []
    for line in process.stderr:
        paused.append(line)
        if line.strip() == "paused at legacy-bundled":
            break
    assert "paused at legacy-bundled\n" in paused, "".join(paused)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out + err
    assert "Bundle: " in out and "Interrupted after the bundle was complete" in out
    assert "late-interrupt" in bundles_of(project) and scratch_databases(project) == []
    assert project.invoke("bundle-check", "--name", "late-interrupt").returncode == 0
    shutil.rmtree(project.root / "db_backups" / "bundles" / "late-interrupt")


def test_a_tampered_bundle_fails_bundle_check(project, old_mole_bundle):
    dump = with_bundle(project, old_mole_bundle) / "migrated.dump"
    assert project.invoke("bundle-check", "--name", "old").returncode == 0
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    result = project.invoke("bundle-check", "--name", "old")
    assert result.returncode == 2
    assert "bundle old was altered: migrated.dump changed" in result.stderr
    restore = project.invoke("restore", "--bundle", "old", "--yes")
    assert restore.returncode == 2 and "was altered" in restore.stderr


def test_restore_bundle_makes_the_migrated_database_live_after_a_safety_backup(migrated):
    migrated.invoke("legacy", "--db", str(EXAMPLES / "divergent_registry.dump"), "--name", "reg", check=True)
    migrated.sql(
        "DELETE FROM data_collection_pose WHERE id IN (SELECT id FROM data_collection_pose AS pose "
        "WHERE NOT EXISTS (SELECT FROM data_collection_event WHERE start_pose_id = pose.id) LIMIT 10)"
    )
    result = migrated.invoke("restore", "--bundle", "reg", "--yes", check=True)
    assert "Restored bundle reg" in result.stdout and "before-restore" in result.stdout
    assert pose_count(migrated) == SAMPLE_POSES
    assert migrated.sql("SELECT count(*) FROM legacy.data_collection_calibration")[0][0] == 3
    assert migrated.invoke("verify").returncode == 0


def test_a_dump_from_a_newer_pg_dump_is_refused_before_loading(project, tmp_path):
    newer = tmp_path / "from_the_future.sql"
    text = (EXAMPLES / "old_mole_0005.sql").read_text()
    newer.write_text(re.sub(r"-- Dumped by pg_dump version \S+", "-- Dumped by pg_dump version 99.1", text))
    result = project.invoke("legacy", "--db", str(newer))
    server = f"PostgreSQL {postgres_major()}."
    assert_refused(project, result, f"was made by pg_dump 99.1, newer than this server ({server}")


def test_a_bundle_folder_that_cannot_be_written_is_refused_before_any_work(project, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backups folder should be")
    dump = REPO / "examples" / "legacy" / "old_mole_0005.sql"
    result = project.invoke("legacy", "--db", str(dump), extra_env={"INVOKE_MOLE_BACKUPS_DIR": str(blocked)})
    assert_refused(project, result, f"cannot create the bundle folder {blocked}/bundles")
