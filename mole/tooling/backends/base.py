"""The small interface the whole pipeline is written against.

A backend runs a management command, runs a client tool (psql, pg_dump,
pg_restore) with streams, and creates or drops databases. Only the Compose
backend knows Docker exists.
"""
from __future__ import annotations

import secrets
import subprocess
from abc import ABC
from abc import abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import IO
from typing import TYPE_CHECKING
from typing import Iterable
from typing import Iterator

from ..names import quote_identifier
from ..names import safe_database
from ..process import Completed
from ..process import ProcessRunner

if TYPE_CHECKING:
    from ..load_role import LoadRole

MAINTENANCE_DATABASE = "postgres"
CLIENT_TOOLS = ("psql", "pg_dump", "pg_restore")
SCRATCH_PREFIX = "mole_scratch_"


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
        self.database = safe_database(database)

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
        """Run `manage.py ARGS` against `database` (the live one by default)."""
        command = self.manage_command(args, database or self.database)
        return self.runner.run(
            command.argv, env=command.env, cwd=command.cwd, capture=capture, check=check
        )

    def client(
        self,
        tool: str,
        args: list[str],
        *,
        capture: bool = False,
        stdin: IO[bytes] | None = None,
        stdin_chunks: Iterable[bytes] | None = None,
        stdout: IO[bytes] | None = None,
        stdin_path: Path | None = None,
        stdout_path: Path | None = None,
        check: bool = True,
        role: LoadRole | None = None,
    ) -> Completed:
        """Run psql, pg_dump or pg_restore; the database goes in `args` (`--dbname`).

        `stdin`/`stdout` are open files streamed by the OS, `stdin_chunks` input
        fed piece by piece; the paths only name them in dry-run output. `role`
        logs in as that role instead of the tooling's user.
        """
        if tool not in CLIENT_TOOLS:
            raise ValueError(f"not a client tool: {tool}")
        command = self.client_command(tool, args, role)
        return self.runner.run(
            command.argv,
            env=command.env,
            capture=capture,
            stdin=stdin,
            stdin_chunks=stdin_chunks,
            stdout=stdout,
            stdin_path=stdin_path,
            stdout_path=stdout_path,
            check=check,
        )

    @contextmanager
    def client_output(self, tool: str, args: list[str], *, stdin: IO[bytes]) -> Iterator[IO[bytes]]:
        """Run a client tool that reads `stdin` and yield its standard output as a stream.

        Raises CommandFailed afterwards if the tool failed (unless the reader stopped early).
        """
        if tool not in CLIENT_TOOLS:
            raise ValueError(f"not a client tool: {tool}")
        command = self.client_command(tool, args)
        with self.runner.output_stream(command.argv, env=command.env, stdin=stdin) as stream:
            yield stream

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
        return self.name

    def ensure_ready(self) -> None:
        """Reach the server (starting it if it is ours) and make sure the live database exists."""
        self.up()
        if not self.runner.dry and not self.database_exists(self.database):
            self.create_database(self.database)

    def sql(self, query: str, *, database: str = MAINTENANCE_DATABASE, check: bool = True) -> Completed:
        """Run SQL with psql, unaligned and tuples only, stopping at the first error."""
        return self.client(
            "psql",
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", f"--dbname={database}", "-c", query],
            capture=True,
            check=check,
        )

    def sql_statements(self, statements: list[str], *, database: str = MAINTENANCE_DATABASE) -> None:
        """Run each statement in its own transaction (CREATE/DROP DATABASE need that)."""
        args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={database}"]
        for statement in statements:
            args += ["-c", statement]
        self.client("psql", args, capture=True)

    def server_version(self) -> str:
        return self.sql("SHOW server_version").stdout.strip()

    def database_exists(self, name: str) -> bool:
        query = f"SELECT 1 FROM pg_database WHERE datname = '{safe_database(name)}'"
        return self.sql(query).stdout.strip() == "1"

    def create_database(self, name: str) -> None:
        self.sql_statements([f"CREATE DATABASE {quote_identifier(name)}"])

    def available_extensions(self, database: str) -> set[str]:
        """Names of the extensions this server can create (installed on it, created or not)."""
        result = self.sql("SELECT name FROM pg_available_extensions", database=database)
        return set(result.stdout.split())

    def drop_database(self, name: str) -> None:
        self.sql_statements([f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)"])

    def rename_database(self, old: str, new: str) -> None:
        self.sql_statements([f"ALTER DATABASE {quote_identifier(old)} RENAME TO {quote_identifier(new)}"])

    def replace_database(self, target: str, replacement: str) -> None:
        """Make `replacement` the database called `target`; the old `target` is dropped."""
        retired = f"{target}__replaced"[:63]
        self.sql_statements([
            f"DROP DATABASE IF EXISTS {quote_identifier(retired)} WITH (FORCE)",
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{safe_database(target)}' AND pid <> pg_backend_pid()",
            f"ALTER DATABASE {quote_identifier(target)} RENAME TO {quote_identifier(retired)}",
            f"ALTER DATABASE {quote_identifier(replacement)} RENAME TO {quote_identifier(target)}",
            f"DROP DATABASE {quote_identifier(retired)} WITH (FORCE)",
        ])

    @contextmanager
    def scratch_database(self, purpose: str, *, keep: bool = False) -> Iterator[str]:
        """A new empty database, dropped afterwards whatever happens (Ctrl-C included) unless `keep`."""
        name = f"{SCRATCH_PREFIX}{purpose}_{secrets.token_hex(4)}"
        self.create_database(name)
        try:
            yield name
        finally:
            if not keep:
                self.drop_database(name)
