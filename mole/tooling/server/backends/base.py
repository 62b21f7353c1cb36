"""The small interface the whole pipeline is written against: where Mole's database and Django run.

A backend is a transport (how `manage.py` and a client tool run: a local process, or
`docker compose exec -T`) and a server lifecycle (up, down, available). What runs over the
transport belongs elsewhere: every client-tool command line to `PostgresTools` (`backend.tools`),
database administration to `DatabaseAdmin` (`backend.admin`). Only the Compose backend knows
Docker exists.
"""
from __future__ import annotations

import subprocess
import sys
from abc import ABC
from abc import abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Iterator

from tooling.debris import LOAD_ROLE_PREFIX
from tooling.debris import SCRATCH_PREFIX
from tooling.debris import STAGING_SUFFIX
from tooling.errors import CommandFailed
from tooling.errors import ToolingError
from tooling.names import safe_database
from tooling.process import Completed
from tooling.process import ProcessRunner
from tooling.process import last_lines
from tooling.server.database_admin import RETIRED_SUFFIX
from tooling.server.database_admin import DatabaseAdmin
from tooling.server.django_session import SERVE_COMMAND
from tooling.server.django_session import DjangoSession
from tooling.server.postgres_tools import PostgresTools

if TYPE_CHECKING:
    from tooling.legacy.load_role import LoadRole



@dataclass(frozen=True)
class Command:
    """An argv with the environment additions and folder it needs."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


class Backend(ABC):
    """Where Mole's database and Django run."""

    name: str

    def __init__(self, runner: ProcessRunner, database: str) -> None:
        self.runner = runner
        self.database = refuse_reserved(safe_database(database))
        self.tools = PostgresTools(self)
        self.admin = DatabaseAdmin(self.tools, runner)
        self.session: DjangoSession | None = None

    @abstractmethod
    def manage_command(self, args: list[str], database: str) -> Command:
        """How this backend runs `manage.py ARGS` against `database`."""

    @abstractmethod
    def client_command(self, tool: str, args: list[str], role: LoadRole | None = None) -> Command:
        """How this backend runs a PostgreSQL client tool, as `role` if given (else the tooling's user)."""

    role_needs_password = False
    """True where a new role can only log in with a password (a server reached over TCP)."""

    @abstractmethod
    def web_server_command(
        self, database: str, port: int, env: dict[str, str], media: Path | None
    ) -> Command:
        """How this backend runs Mole's web server on localhost:`port` against `database`.

        `env` adds settings for Mole (no secrets); `media` is a host folder to serve as MEDIA_ROOT.
        """

    def manage(
        self,
        args: list[str],
        *,
        database: str | None = None,
        capture: bool = False,
        check: bool = True,
    ) -> Completed:
        """Run `manage.py ARGS` against `database` (the live one by default): in the open Django
        session if there is one, else in a process of its own. Raises CommandFailed with
        Django's last error lines when it fails and `check`."""
        command = self.manage_command(args, database or self.database)
        if self.session is None or self.runner.dry:
            return self.runner.run(
                command.argv, env=command.env, cwd=command.cwd, capture=capture, check=check
            )
        completed = self.session.run(args, database or self.database)
        if not capture:
            sys.stdout.write(completed.stdout)
        if completed.stderr and not capture and completed.returncode == 0:  # as ProcessRunner.run
            sys.stderr.write(completed.stderr)
        if check and completed.returncode != 0:
            raise CommandFailed(command.argv, completed.returncode, last_lines(completed.stderr))
        return completed if capture else Completed(completed.returncode, "", completed.stderr)

    @contextmanager
    def django_session(self) -> Iterator[None]:
        """Within it, every `manage` runs in one long-lived Django process (tooling.server.
        django_session) instead of one each; nested uses share it. Does nothing in a dry run."""
        if self.session is not None or self.runner.dry:
            yield
            return
        command = self.manage_command([SERVE_COMMAND], self.database)
        self.session = DjangoSession(self.runner, command.argv, command.env, command.cwd)
        try:
            yield
        except BaseException:
            self.session.kill()
            raise
        else:
            self.session.close()
        finally:
            self.session = None

    def start_web_server(
        self, database: str, port: int, env: dict[str, str], media: Path | None = None
    ) -> subprocess.Popen | None:
        """Start Mole's web server in the background; None in a dry run."""
        command = self.web_server_command(database, port, env, media)
        return self.runner.start(command.argv, env=command.env, cwd=command.cwd)

    @abstractmethod
    def up(self) -> None:
        """Make the server reachable (start it if this backend owns it)."""

    @abstractmethod
    def down(self) -> None:
        """Stop what `up` started."""

    @abstractmethod
    def is_available(self) -> bool:
        """True when the server answers without anything being started."""

    def describe(self) -> str:
        """One line naming the backend and where its server is (for `status`)."""
        return self.name

    def ensure_ready(self) -> list[str]:
        """Reach the server (starting it if it is ours) and make sure the live database exists.

        Returns what was repaired on the way, one sentence each (see `prepare_live_database`).
        """
        self.up()
        return self.prepare_live_database()

    def prepare_live_database(self) -> list[str]:
        """Repair a restore that was cut short, then create the live database if there is none
        (never while an interrupted restore still holds it under another name)."""
        if self.runner.dry:
            return []
        repaired = self.admin.repair_interrupted_swap(self.database)
        if not self.admin.database_exists(self.database):
            self.admin.create_database(self.database)
        return [repaired] if repaired else []


def refuse_reserved(database: str) -> str:
    """`database`, unless its name is one the clean-up of killed runs owns (debris.py) or a swap uses.

    Raises ToolingError."""
    if (database.startswith((SCRATCH_PREFIX, LOAD_ROLE_PREFIX))
            or database.endswith((STAGING_SUFFIX, RETIRED_SUFFIX))):
        raise ToolingError(f"the database name {database!r} is reserved for the tooling's temporary "
                           f"databases (names starting {SCRATCH_PREFIX} or {LOAD_ROLE_PREFIX}, or ending "
                           f"{STAGING_SUFFIX} or {RETIRED_SUFFIX}): choose another")
    return database
