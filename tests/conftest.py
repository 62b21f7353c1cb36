"""Fixtures: one real local PostgreSQL with PostGIS for the session, and a private project copy per test.

Each test works in its own copy of the repository (so it may edit models or
migrations) and its own live database on the shared server; nothing touches
the developer's own `.mole/` or `db_backups/`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from tooling.process import ProcessRunner
from tooling.server.local_server import LocalServer
from tooling.server.local_server import binaries_dir

REPO = Path(__file__).resolve().parent.parent

COPIED = ["tasks", "mole", "compose", "requirements.txt"]
MIGRATIONS = REPO / "mole" / "data_collection" / "migrations"
MIGRATION_FILES = sorted(path.stem for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
AUTOMATION_FILES = sorted(path.stem for path in (REPO / "mole" / "automation" / "migrations").glob("0*.py"))
# The head as the tooling names it: the last migration of each of Mole's apps.
HEAD = f"data_collection.{MIGRATION_FILES[-1]} + automation.{AUTOMATION_FILES[-1]}"
# The last point of the history: custom (legacy) migrations change no schema and are no points.
LAST_POINT = (f"data_collection.{[name for name in MIGRATION_FILES if '_legacy_' not in name][-1]} "
              f"+ automation.{AUTOMATION_FILES[-1]}")
NEXT_NUMBER = f"{int(MIGRATION_FILES[-1][:4]) + 1:04d}"
INVOKE = str(Path(sys.executable).parent / "invoke")
# load_sample_data's field test: 3 robots, 3 trials, 40 poses each.
SAMPLE_POSES = 360
THROWAWAY_SETTINGS = (("fsync", "off"), ("synchronous_commit", "off"), ("full_page_writes", "off"))


@dataclass
class Server:
    data_dir: Path
    environment: dict[str, str]

    def connect(self, database: str):
        return psycopg2.connect(dbname=database, host=self.environment["PGHOST"], user="postgres")

    def sql(self, database: str, query: str, params: tuple | dict | None = None):
        connection = self.connect(database)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()


@pytest.fixture(scope="session")
def server():
    data_dir = Path(tempfile.mkdtemp(prefix="mole-test-"))
    # Its data is thrown away after the run: no need to survive a crash of the machine.
    local = LocalServer(data_dir, ProcessRunner(), settings=THROWAWAY_SETTINGS)
    local.start()
    found = Server(data_dir, local.client_environment())
    found.sql("postgres", "CREATE ROLE mole SUPERUSER LOGIN")
    yield found
    local.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class Project:
    """A copy of the repository wired to the test server, and a way to run invoke in it."""

    root: Path
    database: str
    server: Server
    env: dict[str, str]

    def invoke(self, *args: str, check: bool = False, extra_env: dict[str, str] | None = None):
        result = subprocess.run(
            [INVOKE, *args],
            cwd=self.root,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"invoke {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def sql(self, query: str, database: str | None = None, params: tuple | dict | None = None):
        return self.server.sql(database or self.database, query, params)

    @property
    def backups(self) -> Path:
        return self.root / "db_backups" / "backups"


def copy_project(server: Server, root: Path) -> Project:
    """A copy of the repository in `root`, with its own live database name on the test server."""
    root.mkdir()
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "media"))
        else:
            shutil.copy2(source, root / name)
    database = f"test_{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "INVOKE_MOLE_BACKEND": "local",
        "INVOKE_MOLE_DATABASE": database,
        "INVOKE_MOLE_DATA_DIR": str(server.data_dir),
        "PYTHONWARNINGS": "ignore",
    }
    return Project(root, database, server, env)


def drop_live_database(project: Project) -> None:
    for name in (project.database, f"{project.database}__restoring"):
        project.server.sql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def project(server, tmp_path):
    made = copy_project(server, tmp_path / "project")
    yield made
    drop_live_database(made)


@pytest.fixture(scope="session")
def sample_template(server, tmp_path_factory) -> str:
    """A database at head with the sample campaign, made once by the tasks themselves; tests
    start from a copy of it (CREATE DATABASE ... TEMPLATE) instead of migrating again."""
    made = copy_project(server, tmp_path_factory.mktemp("template") / "project")
    made.invoke("migrate", check=True)
    made.invoke("sample-data", check=True)
    return made.database


def with_sample_data(project: Project, template: str) -> Project:
    """`project`'s live database as a copy of the sample template."""
    project.server.sql("postgres", f'CREATE DATABASE "{project.database}" TEMPLATE "{template}"')
    return project


@pytest.fixture
def migrated(project, sample_template):
    """A project whose live database is at head, with the sample campaign loaded."""
    return with_sample_data(project, sample_template)


@pytest.fixture
def compose_project(project, tmp_path):
    """The project on the compose backend, with the stand-in docker first on PATH."""
    log = tmp_path / "docker-calls.jsonl"
    project.env.update(
        INVOKE_MOLE_BACKEND="compose",
        PATH=os.pathsep.join(
            [str(REPO / "tests" / "stand_in"), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        MOLE_STAND_IN_LOG=str(log),
        MOLE_STAND_IN_PGHOST=project.server.environment["PGHOST"],
        MOLE_STAND_IN_PG_BIN=str(binaries_dir()),
    )
    project.docker_log = log
    return project


@pytest.fixture(scope="session")
def old_mole_bundle(server, tmp_path_factory) -> Path:
    """The bundle `old` of examples/legacy/old_mole_0005.sql, made once; tests copy it."""
    made = copy_project(server, tmp_path_factory.mktemp("old-bundle") / "project")
    made.invoke("legacy", "--db", str(REPO / "examples" / "legacy" / "old_mole_0005.sql"), "--name", "old",
                check=True)
    return made.root / "db_backups" / "bundles" / "old"


def with_bundle(project: Project, bundle: Path) -> Path:
    """A copy of `bundle` in `project`'s bundle folder, under the same name."""
    folder = project.root / "db_backups" / "bundles" / bundle.name
    shutil.copytree(bundle, folder)
    return folder


# The migration an old Mole's sample experiment is rolled back to: before pose speed (0006) and
# the automation app (0007), so the legacy pipeline has real migrations to run on it.
OLD_SAMPLE_MIGRATION = "0005_entity_event_role"


@pytest.fixture(scope="session")
def old_sample_dump(server, sample_template, tmp_path_factory) -> Path:
    """The sample field test as an old Mole at data_collection 0005 holds it: a plain pg_dump,
    made by migrating a copy of the sample database back (what a legacy example would be)."""
    made = copy_project(server, tmp_path_factory.mktemp("old-sample") / "project")
    with_sample_data(made, sample_template)
    made.invoke("migrate", "--app", "data_collection", "--target", OLD_SAMPLE_MIGRATION, check=True)
    dump = made.root.parent / "sample_0005.sql"
    subprocess.run(
        [str(binaries_dir() / "pg_dump"), f"--dbname={made.database}", f"--file={dump}"],
        env={**os.environ, **server.environment},
        check=True,
    )
    drop_live_database(made)
    return dump


@pytest.fixture(scope="session")
def opened_example(server, sample_template, old_sample_dump, tmp_path_factory):
    """A project with a bundle of the old sample dump (migrated from 0005), and a backup of its
    sample data at head.

    Shared by the `invoke open` tests (making a bundle takes a while); they leave it as they found it.
    """
    made = copy_project(server, tmp_path_factory.mktemp("opened") / "project")
    with_sample_data(made, sample_template)
    made.invoke("backup", "--label", "sample", check=True)
    made.invoke("legacy", "--db", str(old_sample_dump), "--name", "old-sample", check=True)
    made.bundle = "old-sample"
    made.legacy_dump = old_sample_dump
    made.backup = next(made.backups.glob("*_sample.dump")).stem
    yield made
    drop_live_database(made)
