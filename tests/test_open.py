"""`invoke open`: sessions start and end cleanly, reuse their copy, and refuse what they must.

The pages themselves are checked in test_open_overview.py, the browser in test_open_browser.py.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal

from opened_session import COPY_DATABASES
from opened_session import OpenedSession
from opened_session import WebClient
from opened_session import copy_database_of
from opened_session import free_port


def test_ctrl_c_removes_the_login_and_the_next_open_reuses_the_copy(opened_example):
    session = OpenedSession(opened_example, "--bundle", opened_example.bundle).wait_until_serving()
    copy = copy_database_of(opened_example, opened_example.bundle)
    logins = f"SELECT username FROM auth_user WHERE username = '{session.username}'"
    assert opened_example.sql(logins, copy) == [(session.username,)]
    for _ in range(5):
        assert WebClient(session.url).get("/")[0] == 200
    viewer = WebClient(session.url)
    assert viewer.log_in(session.username, session.password)
    assert viewer.get("admin/auth/user/")[0] == 403
    assert session.stop() == 0, session.output
    assert "Forbidden (Permission denied): /admin/auth/user/" in session.output
    assert "Traceback" not in session.output
    assert "Stopped." in session.output
    assert opened_example.sql(logins, copy) == []
    assert opened_example.sql("SELECT count(*) FROM auth_user WHERE username LIKE 'mole-open-%'", copy) == [
        (0,)
    ]
    assert copy_database_of(opened_example, opened_example.bundle) == copy

    # On the same port at once, as a person would reopen it.
    with OpenedSession(opened_example, "--bundle", opened_example.bundle, port=session.port) as again:
        assert "Reusing database" in again.output
        assert again.password != session.password
        assert not WebClient(again.url).log_in(session.username, session.password)


def test_kill_int_stops_an_open_that_a_script_started_in_the_background(opened_example):
    session = OpenedSession(
        opened_example, "--bundle", opened_example.bundle, sigint_ignored=True
    ).wait_until_serving()
    os.kill(session.process.pid, signal.SIGINT)  # the task's process alone, as `kill -INT PID`
    assert session.process.wait(60) == 0, session.output
    session.reader.join(10)
    assert "Stopped." in session.output
    copy = copy_database_of(opened_example, opened_example.bundle)
    logins = f"SELECT count(*) FROM auth_user WHERE username = '{session.username}'"
    assert opened_example.sql(logins, copy) == [(0,)]


def test_the_login_is_in_no_bundle_file_and_not_in_the_bundle_list(opened_example):
    with OpenedSession(opened_example, "--bundle", opened_example.bundle) as session:
        secrets = (session.username.encode(), session.password.encode())
        listing = opened_example.invoke("bundles", check=True)
    folder = opened_example.root / "db_backups" / "bundles" / opened_example.bundle
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert files
    for path in files:
        content = path.read_bytes()
        assert not any(secret in content for secret in secrets), path
    assert opened_example.bundle in listing.stdout
    assert not any(secret.decode() in listing.stdout + listing.stderr for secret in secrets)
    # Printed once to the terminal; not in the web server's log nor the database server's.
    assert session.output.count(session.password) == 1
    server_log = (opened_example.server.data_dir / "postgres.log").read_bytes()
    assert server_log and secrets[1] not in server_log
    assert opened_example.invoke("bundle-check", "--name", opened_example.bundle).returncode == 0


def test_a_backup_opens_too(opened_example):
    with OpenedSession(opened_example, "--backup", opened_example.backup) as session:
        _, _, page = WebClient(session.url).get("/")
    banner = re.search(r'<div id="opened-banner".*?</div>', page, re.S)[0]
    assert "Legacy experiment" in banner and f"backup {opened_example.backup}" in banner
    # The backup is of the live database, which the tests leave as it was.
    campaigns = opened_example.sql("SELECT name FROM data_collection_campaign")
    assert campaigns and all(html.escape(name) in page for (name,) in campaigns)
    [(trials,)] = opened_example.sql("SELECT count(*) FROM data_collection_trial")
    assert page.count('<tr class="trial-row"') == trials


def assert_refused(result, message: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Mole is serving" not in result.stdout


def test_a_tampered_bundle_is_refused_before_anything_is_restored(opened_example):
    bundles = opened_example.root / "db_backups" / "bundles"
    shutil.copytree(bundles / opened_example.bundle, bundles / "tampered")
    try:
        report = bundles / "tampered" / "REPORT.md"
        report.write_text(report.read_text() + "\nEdited afterwards.\n")
        before = opened_example.sql(COPY_DATABASES, "postgres")
        result = opened_example.invoke("open", "--bundle", "tampered", "--port", str(free_port()))
        assert_refused(result, "bundle tampered was altered: REPORT.md changed")
        assert opened_example.sql(COPY_DATABASES, "postgres") == before
    finally:
        shutil.rmtree(bundles / "tampered")


def test_bad_requests_get_one_error_line(opened_example):
    def opened(*args):
        return opened_example.invoke("open", *args)

    bundle = opened_example.bundle
    assert_refused(opened("--bundle", f"../{bundle}"), "is not allowed")
    assert_refused(opened("--bundle", "nothing-here"), "no bundle named 'nothing-here'")
    assert_refused(opened("--backup", "nothing-here"), "nothing-here")
    assert_refused(
        opened("--bundle", bundle, "--backup", opened_example.backup), "either --bundle or --backup"
    )
    assert_refused(opened(), "either --bundle or --backup")
    for port in ("abc", "99999", "0"):
        assert_refused(opened("--bundle", bundle, "--port", port), "--port must be a number from 1 to")
    with OpenedSession(opened_example, "--bundle", opened_example.bundle) as session:
        assert_refused(opened("--backup", opened_example.backup, "--port", str(session.port)), "in use")
        assert_refused(opened("--bundle", opened_example.bundle, "--port", str(free_port())), "already open")


def test_the_compose_backend_runs_a_one_off_django_container(compose_project, opened_example):
    project = compose_project
    bundles = project.root / "db_backups" / "bundles"
    bundles.mkdir(parents=True)
    shutil.copytree(
        opened_example.root / "db_backups" / "bundles" / opened_example.bundle, bundles / "on-compose"
    )
    try:
        with OpenedSession(project, "--bundle", "on-compose") as session:
            status, _, page = WebClient(session.url).get("/")
            assert status == 200 and "bundle on-compose" in page
        calls = [json.loads(line) for line in project.docker_log.read_text().splitlines()]
        [run] = [call for call in calls if "run" in call]
        container = run[run.index("django") :]
        assert container == ["django", "python", "manage.py", "runserver", "--noreload", "0.0.0.0:8000"]
        options = run[run.index("run") : run.index("django")]
        assert options[:6] == ["run", "--rm", "-T", "--no-deps", "-p", f"127.0.0.1:{session.port}:8000"]
        assert f"PGDATABASE={copy_database_of(project, 'on-compose')}" in options
        banner = (
            "MOLE_OPENED=Legacy experiment: bundle on-compose, "
            f"migrated from {opened_example.legacy_dump.name}"
        )
        assert banner in options
        assert not any("PASSWORD" in option for option in run)
        restores = [call for call in calls if "pg_restore" in call]
        assert restores and all(call[call.index("exec") + 1] == "-T" for call in restores)
        logins = [call for call in calls if "throwaway_login" in call]
        assert [call[-1] for call in logins] == ["create", "remove"]
        assert all(call[call.index("exec") + 1] == "-T" and "django" in call for call in logins)
    finally:
        for (name,) in project.sql(COPY_DATABASES, "postgres"):
            if name.startswith("mole_open_bundle_on_compose_"):
                project.server.sql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_dry_run_prints_the_web_server_command_and_starts_nothing(opened_example):
    port = free_port()
    result = opened_example.invoke("open", "--bundle", opened_example.bundle, "--port", str(port), "--dry")
    assert result.returncode == 0, result.stderr
    assert f"manage.py runserver --noreload 127.0.0.1:{port}" in result.stdout
    assert "manage.py throwaway_login create" in result.stdout
    assert "Mole is serving" not in result.stdout


def test_drop_copy_removes_the_kept_copy_but_not_while_it_is_open(opened_example):
    def drop():
        return opened_example.invoke("open", "--bundle", opened_example.bundle, "--drop-copy")

    with OpenedSession(opened_example, "--bundle", opened_example.bundle):
        copy = copy_database_of(opened_example, opened_example.bundle)
        assert_refused(drop(), "already open")
    status = opened_example.invoke("status", check=True).stdout
    assert f"open copy:  {copy} (bundle {opened_example.bundle};" in status
    dropped = drop()
    assert dropped.returncode == 0 and f"Dropped {copy}." in dropped.stdout, dropped.stderr
    assert copy not in opened_example.invoke("status", check=True).stdout
    assert copy not in [name for (name,) in opened_example.sql(COPY_DATABASES, "postgres")]
    assert f"No copy of bundle {opened_example.bundle}" in drop().stdout
    assert (
        opened_example.root / "db_backups" / "bundles" / opened_example.bundle / "migrated.dump"
    ).is_file()
