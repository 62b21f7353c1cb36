"""The url backend, the local server's lifecycle, backend choice and settings parsing."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tooling.errors import ToolingError
from tooling.process import ProcessRunner
from tooling.server.backends import select_backend
from tooling.server.local_server import LocalServer
from tooling.server.local_server import postgres_major
from tooling.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def settings_with(**overrides) -> Settings:
    from tasks.common import CONFIG_DEFAULTS

    return Settings.from_config(REPO, {**CONFIG_DEFAULTS, **overrides})


def test_url_backend_migrates_backs_up_and_verifies_without_leaking_the_password(project):
    socket_dir = project.server.environment["PGHOST"]
    url = f"postgresql://postgres:s3cret-pw@/{project.database}?host={socket_dir}"
    env = {"INVOKE_MOLE_BACKEND": "url", "INVOKE_MOLE_URL": url}
    outputs = [
        project.invoke("up", check=True, extra_env=env),
        project.invoke("migrate", check=True, extra_env=env),
        project.invoke("backup", "--label", "url", check=True, extra_env=env),
        project.invoke("verify", check=True, extra_env=env),
        project.invoke("--dry", "backup", check=True, extra_env=env),
        project.invoke("status", check=True, extra_env=env),
        project.invoke("legacy", "--db", str(REPO / "examples/legacy/divergent_registry.dump"),
                       "--name", "url", check=True, extra_env=env),
    ]
    assert "url (" in outputs[-2].stdout
    bundle = project.root / "db_backups" / "bundles" / "url"
    assert json.loads((bundle / "manifest.json").read_text())["backend"] == "url"
    written = [path.read_bytes().decode("latin-1") for path in project.backups.iterdir()]
    in_bundle = [path.read_bytes().decode("latin-1") for path in bundle.rglob("*") if path.is_file()]
    for text in [*written, *in_bundle, *(o.stdout + o.stderr for o in outputs)]:
        assert "s3cret-pw" not in text
    [manifest] = [json.loads(text) for text in written if text.startswith("{")]
    assert manifest["backend"] == "url"


def test_url_backend_reports_an_unreachable_server(project, tmp_path):
    env = {"INVOKE_MOLE_BACKEND": "url", "INVOKE_MOLE_URL": f"postgresql://u@/mole?host={tmp_path}"}
    result = project.invoke("migrate", extra_env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no PostgreSQL server answers")
    assert "No such file or directory" in result.stderr and len(result.stderr.splitlines()) == 1


def test_url_backend_tells_a_refused_login_from_an_unreachable_server(project):
    socket_dir = project.server.environment["PGHOST"]
    url = f"postgresql://nobody:not-this-one@/mole?host={socket_dir}"
    result = project.invoke("migrate", extra_env={"INVOKE_MOLE_BACKEND": "url", "INVOKE_MOLE_URL": url})
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: the server at {socket_dir}:5432 refused the login (role ")
    assert line.endswith("check the user and password in mole.url") and "not-this-one" not in line


def test_local_server_up_status_down(project, tmp_path):
    data_dir = tmp_path / "own-server"
    env = {"INVOKE_MOLE_DATA_DIR": str(data_dir)}
    assert "not running" in project.invoke("status", check=True, extra_env=env).stdout
    project.invoke("up", check=True, extra_env=env)
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    running = project.invoke("status", check=True, extra_env=env).stdout
    assert f"PostgreSQL {postgres_major()}." in running and f"database:   {project.database}" in running
    project.invoke("up", check=True, extra_env=env)  # reused, not restarted
    project.invoke("down", check=True, extra_env=env)
    assert "not running" in project.invoke("status", check=True, extra_env=env).stdout
    stopped = LocalServer(data_dir, ProcessRunner())
    assert not stopped.is_running()
    assert not stopped.socket_dir.exists()


def test_unknown_backend_is_one_clear_error(project):
    result = project.invoke("status", "--backend", "kubernetes")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: unknown backend 'kubernetes': choose one of auto, local, compose, url"
    )


def test_auto_picks_local_without_docker(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    backend = select_backend(settings_with(), ProcessRunner())
    assert backend.name == "local"


def test_auto_picks_compose_when_the_stack_runs(monkeypatch):
    stand_in = REPO / "tests" / "stand_in"
    monkeypatch.setenv("PATH", f"{stand_in}:{Path(sys.executable).parent}:/usr/bin:/bin")
    monkeypatch.setenv("MOLE_STAND_IN_LOG", "/dev/null")
    backend = select_backend(settings_with(), ProcessRunner())
    assert backend.name == "compose"


def test_url_backend_refuses_a_url_that_is_not_postgres():
    with pytest.raises(ToolingError, match="needs mole.url"):
        select_backend(settings_with(backend="url", url="mysql://x@y/z"), ProcessRunner())


def test_settings_read_the_database_from_url_or_pg_variables():
    from mole.settings import database_from_environment

    from_url = database_from_environment({"DATABASE_URL": "postgresql://u:p%40ss@db:5433/exp"})
    assert (from_url["HOST"], from_url["PORT"], from_url["NAME"], from_url["PASSWORD"]) == (
        "db", "5433", "exp", "p@ss"
    )
    socket = database_from_environment({"DATABASE_URL": "postgresql://u@/exp?host=/tmp/sock&sslmode=disable"})
    assert (socket["HOST"], socket["OPTIONS"]) == ("/tmp/sock", {"sslmode": "disable"})
    from_pg = database_from_environment({"PGHOST": "postgres", "PGDATABASE": "scratch", "PGUSER": "mole"})
    assert (from_pg["HOST"], from_pg["NAME"], from_pg["USER"]) == ("postgres", "scratch", "mole")


def test_the_url_backend_keeps_every_parameter_of_its_url():
    from tooling.server.backends import UrlBackend

    url = "postgresql://u:p%40ss@db.example:6543/exp?sslmode=verify-full&application_name=mole&connect_timeout=5"
    backend = UrlBackend(ProcessRunner(), "mole", REPO / "mole", url)
    assert backend.database == "exp"
    assert backend.client_environment() == {
        "PGUSER": "u", "PGPASSWORD": "p@ss", "PGHOST": "db.example", "PGPORT": "6543",
        "PGSSLMODE": "verify-full", "PGAPPNAME": "mole", "PGCONNECT_TIMEOUT": "5",
    }
    assert backend.describe() == "url (db.example:6543)"


def test_task_list_does_not_import_django():
    code = (
        "import sys, tasks; "
        "assert not any(m.split('.')[0] in ('django', 'tooling') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
    listing = subprocess.run(
        [str(Path(sys.executable).parent / "invoke"), "--list"], cwd=REPO, capture_output=True, text=True
    )
    assert "verify" in listing.stdout and "prune-backups" in listing.stdout


def test_every_task_documents_every_option():
    import tasks

    for name in tasks.ns.task_names:
        task = tasks.ns[name]
        assert task.__doc__ and task.__doc__.strip(), name
        params = [arg for arg in task.get_arguments()]
        for arg in params:
            assert arg.help, f"{name} --{arg.name} has no help"


@pytest.mark.parametrize(
    "url, problem",
    [("postgresql://u:s3cret@host:notaport/mole", "its port 'notaport' is not a number"),
     ("postgresql://u:s3cret@[::1/mole", "in IPv6 host address"),
     ("postgresql://u:s3cret@host/mole?keepalives=1", "no environment variable for its parameter"),
     ("postgresql://u:s3cret%zz@host/mole", "invalid percent-encoded token"),
     ("postgresql://u@host/mole?password=s3cret%00", "forbidden value %00")],
    ids=["bad-port", "broken-ipv6", "parameter-without-variable", "bad-percent-encoding", "nul-in-password"],
)
def test_a_malformed_url_is_one_line_without_the_password(project, url, problem):
    result = project.invoke("status", extra_env={"INVOKE_MOLE_BACKEND": "url", "INVOKE_MOLE_URL": url})
    assert result.returncode == 2
    [line] = [line for line in result.stderr.splitlines() if line]
    assert line.startswith("error: the url backend needs") and problem in line and "s3cret" not in line


def test_url_backend_works_as_a_user_that_may_create_databases_and_roles_but_is_no_superuser(project):
    project.server.sql("postgres", "DROP ROLE IF EXISTS tooler")
    project.server.sql("postgres", "CREATE ROLE tooler LOGIN CREATEDB CREATEROLE")
    socket_dir = project.server.environment["PGHOST"]
    env = {"INVOKE_MOLE_BACKEND": "url",
           "INVOKE_MOLE_URL": f"postgresql://tooler@/{project.database}?host={socket_dir}"}
    try:
        project.invoke("migrate", check=True, extra_env=env)
        dump = REPO / "examples" / "legacy" / "old_mole_0005.sql"
        project.invoke("legacy", "--db", str(dump), "--name", "as-tooler", check=True, extra_env=env)
        assert project.sql("SELECT rolname FROM pg_roles WHERE rolname LIKE 'mole|_load|_%' ESCAPE '|'",
                           "postgres") == []
        status = project.invoke("status", extra_env={**env, "INVOKE_MOLE_URL": env["INVOKE_MOLE_URL"].replace(
            "tooler@", "nobody@")})
        assert status.returncode == 2 and "refused the login" in status.stderr
    finally:
        project.server.sql("postgres", f'DROP DATABASE IF EXISTS "{project.database}" WITH (FORCE)')
        project.server.sql("postgres", "DROP OWNED BY tooler")
        project.server.sql("postgres", "DROP ROLE tooler")
