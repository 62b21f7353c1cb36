"""SIGKILL at each step of `legacy`, `backup`, `restore` and `open`: the next run of a task removes what
the killed run left, says so in one line, and the live database is as it was.

A run stops at a step through $MOLE_PAUSE_AT (fault_injection.py); only the invoke process is killed,
as the system's OOM killer would, not its process group.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time

import pytest
from conftest import INVOKE
from conftest import REPO
from conftest import copy_project
from conftest import drop_live_database
from conftest import with_sample_data
from opened_session import OpenedSession

LEGACY_DUMP = REPO / "examples" / "legacy" / "old_mole_0005.sql"
PAUSE_TIMEOUT_SECONDS = 180
CLEAN_NOTE = "note: removed what killed runs left: "


@pytest.fixture(scope="module")
def sample(server, sample_template, tmp_path_factory):
    """A project at head with the sample campaign and a backup of it; each test leaves it so."""
    made = copy_project(server, tmp_path_factory.mktemp("kills") / "project")
    with_sample_data(made, sample_template)
    made.invoke("backup", "--label", "sample", check=True)
    made.backup = next(made.backups.glob("*_sample.dump")).stem
    yield made
    drop_live_database(made)


def killed_at(project, pause: str, *args: str) -> str:
    """Run `invoke ARGS` until it pauses at `pause`, SIGKILL it, and return what it printed."""
    process = subprocess.Popen(
        [INVOKE, *args], cwd=project.root, env={**project.env, "MOLE_PAUSE_AT": pause},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    printed = []
    deadline = time.monotonic() + PAUSE_TIMEOUT_SECONDS
    for line in process.stderr:
        printed.append(line)
        if line.strip() == f"paused at {pause}" or time.monotonic() > deadline:
            break
    process.kill()
    process.wait()
    process.stderr.close()
    assert f"paused at {pause}\n" in printed, "".join(printed)
    return "".join(printed)


def leftovers(project) -> list[str]:
    """Every temporary database, role, folder and file of the tooling, by name."""
    rows = project.sql(
        "SELECT datname FROM pg_database WHERE datname LIKE 'mole|_scratch|_%' ESCAPE '|' "
        "OR datname LIKE '%|_|_restoring' ESCAPE '|' OR datname LIKE '%|_|_replaced' ESCAPE '|' "
        "UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE 'mole|_load|_%' ESCAPE '|'",
        "postgres",
    )
    data = project.server.data_dir
    files = [*data.glob("legacy-*"), *data.glob("open/*.lock"), *data.glob("restore/*.lock"),
             *data.glob("cache/.*.partial-*"),
             *(project.root / "db_backups").glob("*/.*partial*")]
    return sorted([row[0] for row in rows] + [path.name for path in files])


def sample_rows(project) -> int:
    return project.sql("SELECT count(*) FROM data_collection_pose")[0][0]


def cleaned_by_status(project) -> str:
    """Run `invoke status`: it must remove everything and say so in one line."""
    status = project.invoke("status", check=True)
    assert CLEAN_NOTE in status.stderr
    assert len([line for line in status.stderr.splitlines() if line.startswith("note:")]) == 1
    assert leftovers(project) == []
    return status.stdout


@pytest.mark.parametrize("pause", ["load", "legacy-loaded", "bundle-written"])
def test_legacy_killed_at_each_step_leaves_nothing_after_the_next_run(sample, pause):
    killed_at(sample, pause, "legacy", "--db", str(LEGACY_DUMP), "--name", f"killed-{pause}")
    found = leftovers(sample)
    assert found, "the kill left nothing to clean: the test would prove nothing"
    listing = cleaned_by_status(sample)
    if pause == "bundle-written":  # the scratch database is dropped while the bundle is written
        assert "debris:     partial bundle " in listing
    else:
        assert "debris:     scratch database mole_scratch_legacy_" in listing
    assert "(left by a run that was killed): removed" in listing
    assert not (sample.root / "db_backups" / "bundles" / f"killed-{pause}").exists()


def test_a_killed_load_leaves_its_role_and_the_next_run_drops_it(sample):
    killed_at(sample, "load", "legacy", "--db", str(LEGACY_DUMP))
    roles = [name for name in leftovers(sample) if name.startswith("mole_load_")]
    assert len(roles) == 1
    # Any task cleans up, not only status: here a migrate.
    result = sample.invoke("migrate", check=True)
    assert result.stderr.count(CLEAN_NOTE) == 1 and f"load role {roles[0]}" in result.stderr
    assert leftovers(sample) == []


def test_backup_killed_while_writing_leaves_no_partial_file_after_the_next_backup(sample):
    killed_at(sample, "backup-written", "backup", "--label", "killed")
    [partial] = leftovers(sample)
    assert partial.startswith(".") and ".dump.partial-" in partial
    listing = sample.invoke("backups", check=True)
    assert f"partial:  partial backup file {sample.backups / partial}" in listing.stdout
    assert leftovers(sample) == []
    assert not list(sample.backups.glob("*_killed.dump"))
    sample.invoke("backup", "--label", "again", check=True)
    assert leftovers(sample) == [] and list(sample.backups.glob("*_again.dump"))


def test_backup_killed_between_its_manifest_and_its_dump_leaves_no_manifest_after_the_next_run(sample):
    killed_at(sample, "backup-manifest-placed", "backup", "--label", "halfway")
    [manifest] = sample.backups.glob("*_halfway.json")
    listing = sample.invoke("backups", check=True)
    assert f"partial:  backup manifest without its dump {manifest}" in listing.stdout
    assert not [line for line in listing.stdout.splitlines() if line.startswith(manifest.stem)]
    assert not manifest.exists() and leftovers(sample) == []


def test_two_backups_with_the_same_name_at_once_both_keep_their_dump(sample):
    from tooling.backups.backup_store import BackupStore

    store = BackupStore(sample.backups)
    name = store.new_name("twin")
    for number in (1, 2):
        manifest = {"name": name, "created_utc": "2026-11-30T00:00:00Z", "format": "custom",
                    "migration_head": None}
        with store.writing(name, manifest) as stream:
            stream.write(f"dump {number}".encode())
    assert sorted(path.name for path in sample.backups.glob(f"{name}*.dump")) == [
        f"{name}.dump", f"{name}_.dump"]
    assert store.get(f"{name}_").dump.read_bytes() == b"dump 2"
    for path in sample.backups.glob(f"{name}*"):
        path.unlink()


@pytest.mark.parametrize("pause", ["restore-staged", "restore-swapped"])
def test_restore_killed_at_each_step_keeps_a_live_database(sample, pause):
    poses = sample_rows(sample)
    sample.sql("DELETE FROM data_collection_note")
    killed_at(sample, pause, "restore", "--backup", sample.backup, "--yes")
    assert leftovers(sample)
    if pause == "restore-staged":
        cleaned_by_status(sample)
    else:
        # The swap committed: the next task finishes it (test_restore_swap.py has the details).
        assert "repaired:   found" in sample.invoke("status", check=True).stdout
        assert leftovers(sample) == []
    # Staged: the old live database stays. Swapped: the restored one is in place.
    notes = sample.sql("SELECT count(*) FROM data_collection_note")[0][0]
    assert (notes == 0) if pause == "restore-staged" else (notes > 0)
    assert sample_rows(sample) == poses
    sample.invoke("restore", "--backup", sample.backup, "--yes", check=True)
    assert leftovers(sample) == []


def test_a_second_restore_is_refused_while_the_first_is_working(sample):
    first = subprocess.Popen(
        [INVOKE, "restore", "--backup", sample.backup, "--yes"], cwd=sample.root,
        env={**sample.env, "MOLE_PAUSE_AT": "restore-staged"},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert first.stderr.readline().strip() == "paused at restore-staged"
        second = sample.invoke("restore", "--backup", sample.backup, "--yes")
        assert second.returncode == 2
        assert f"error: another restore into {sample.database!r} is running" in second.stderr
        assert len(second.stderr.splitlines()) == 1
        status = sample.invoke("status", check=True)
        assert re.search(r"debris: +scratch database mole_scratch_restore_\S+ \(its run is still working\)",
                         status.stdout), status.stdout
        assert re.search(r"debris: +restore lock \S+ \(its run is still working\)", status.stdout)
    finally:
        first.kill()
        first.wait()
        first.stderr.close()
    cleaned_by_status(sample)


def test_open_killed_while_serving_stops_its_server_and_the_next_run_removes_its_login(sample):
    session = OpenedSession(sample, "--backup", sample.backup).wait_until_serving()
    os.kill(session.process.pid, signal.SIGKILL)
    session.process.wait(30)
    assert port_closes(session.port), "the web server outlived the killed run"
    copy = next(name for (name,) in sample.sql("SELECT datname FROM pg_database", "postgres")
                if name.startswith("mole_open_backup_"))
    logins = "SELECT count(*) FROM auth_user WHERE username LIKE 'mole-open-%'"
    assert sample.sql(logins, copy) == [(1,)]
    assert [name for name in leftovers(sample) if name.endswith(".lock")] == [f"{copy}.lock"]
    cleaned_by_status(sample)
    assert sample.sql(logins, copy) == [(0,)]
    sample.invoke("open", "--backup", sample.backup, "--drop-copy", check=True)


def port_closes(port: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return True
        time.sleep(0.2)
    return False


def test_a_database_killed_before_its_comment_is_known_by_its_name(sample):
    """A kill between CREATE DATABASE and its COMMENT: the name alone says whose it was."""
    from tooling.debris import SCRATCH_PREFIX
    from tooling.owner import Owner
    from tooling.owner import this_host

    gone = Owner(this_host(), 4_000_000, 1)
    name = f"{SCRATCH_PREFIX}restore_{gone.token}_abcd"
    sample.sql(f'CREATE DATABASE "{name}"', "postgres")
    cleaned_by_status(sample)


def test_a_comment_a_dump_writes_on_its_scratch_database_cannot_keep_it(sample):
    """The load role owns the scratch database and may comment on it: the name decides, not the comment."""
    from tooling.debris import SCRATCH_PREFIX
    from tooling.owner import Owner
    from tooling.owner import this_host
    from tooling.owner import this_process

    name = f"{SCRATCH_PREFIX}legacy_{Owner(this_host(), 4_000_001, 1).token}_abcd"
    sample.sql(f'CREATE DATABASE "{name}"', "postgres")
    sample.sql(f"COMMENT ON DATABASE \"{name}\" IS '{this_process().marker}'", "postgres")
    cleaned_by_status(sample)


@pytest.mark.parametrize("reserved", ["mole_scratch_field_1_2_aa", "mole_load_x", "field__restoring",
                                      "field__replaced"])
def test_a_live_database_may_not_take_a_name_the_clean_up_owns(sample, reserved):
    result = sample.invoke("status", extra_env={"INVOKE_MOLE_DATABASE": reserved})
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: the database name {reserved!r} is reserved")


def test_two_restores_started_together_one_is_refused(sample):
    """Started at the same instant: the lock, taken before the safety backup, lets one through."""
    argv = [INVOKE, "restore", "--backup", sample.backup, "--yes"]
    runs = [subprocess.Popen(argv, cwd=sample.root, env=sample.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(300), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert sorted(code for code, _ in results) == [0, 2], results
    [refusal] = [stderr for code, stderr in results if code == 2]
    assert refusal.startswith(f"error: another restore into {sample.database!r} is running")
    assert leftovers(sample) == []
