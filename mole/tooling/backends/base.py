"""The small interface the whole pipeline is written against.

A backend runs a management command, runs a client tool (psql, pg_dump,
pg_restore) with streams, and creates or drops databases. Only the Compose
backend knows Docker exists.
"""
from __future__ import annotations

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

from ..debris import LOAD_ROLE_PREFIX
from ..debris import SCRATCH_PREFIX
from ..debris import STAGING_SUFFIX
from ..debris import comment_on
from ..debris import marker_comment
from ..debris import scratch_database_name
from ..errors import ToolingError
from ..fault_injection import fault_point
from ..fault_injection import pause_point
from ..names import quote_identifier
from ..names import safe_database
from ..process import Completed
from ..process import ProcessRunner

if TYPE_CHECKING:
    from ..load_role import LoadRole

MAINTENANCE_DATABASE = "postgres"
CLIENT_TOOLS = ("psql", "pg_dump", "pg_restore")
RETIRED_SUFFIX = "__replaced"


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
        repaired = self.repair_interrupted_swap(self.database)
        if not self.database_exists(self.database):
            self.create_database(self.database)
        return [repaired] if repaired else []

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

    def create_database(self, name: str, *, temporary: bool = False, purpose: str = "") -> None:
        """Create `name`; a `temporary` one is marked with this run as its owner and `purpose`
        (see debris.py)."""
        statements = [f"CREATE DATABASE {quote_identifier(name)}"]
        if temporary:
            statements.append(marker_comment("DATABASE", name, purpose))
        self.sql_statements(statements)

    def available_extensions(self, database: str) -> set[str]:
        """Names of the extensions this server can create (installed on it, created or not)."""
        result = self.sql("SELECT name FROM pg_available_extensions", database=database)
        return set(result.stdout.split())

    def drop_database(self, name: str) -> None:
        self.sql_statements([f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)"])

    def rename_database(self, old: str, new: str, *, was_temporary: bool = False) -> None:
        """Rename `old` to `new`; `was_temporary` also removes its marker in the same transaction
        (under a permanent name it must never look like debris)."""
        unmark = f"{comment_on('DATABASE', old, None)}; " if was_temporary else ""
        self.sql_statements([
            f"BEGIN; {unmark}ALTER DATABASE {quote_identifier(old)} RENAME TO {quote_identifier(new)}; COMMIT"
        ])

    def replace_database(self, target: str, replacement: str) -> None:
        """Make `replacement` the database called `target`; the old `target` is dropped once the
        new one answers. Both renames are one transaction (ALTER DATABASE ... RENAME may run in a
        transaction block): interrupted or failing at any instant, `target` is the old database
        or the new one, never absent. A swap cut short after its commit leaves
        `target__replaced`, which `repair_interrupted_swap` removes.
        """
        retired = retired_name(target)
        self.repair_interrupted_swap(target)
        self.sql_statements([
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname IN ('{safe_database(target)}', '{safe_database(replacement)}') "
            "AND pid <> pg_backend_pid()",
            f"BEGIN; ALTER DATABASE {quote_identifier(target)} RENAME TO {quote_identifier(retired)}; "
            f"{fault_point('between-renames')}"
            f"{comment_on('DATABASE', replacement, None)}; "
            f"ALTER DATABASE {quote_identifier(replacement)} RENAME TO {quote_identifier(target)}; COMMIT",
        ])
        pause_point("restore-swapped")
        self.sql("SELECT 1", database=target)
        self.drop_database(retired)

    def repair_interrupted_swap(self, target: str) -> str | None:
        """Finish or undo a swap that was cut short; a sentence saying what was found and done, or None."""
        retired = retired_name(target)
        if self.runner.dry or not self.database_exists(retired):
            return None
        if self.database_exists(target):
            self.sql("SELECT 1", database=target)
            self.drop_database(retired)
            return (f"found {retired} from an interrupted restore whose new {target} is in place: "
                    f"dropped {retired}")
        self.rename_database(retired, target)
        return f"found {retired} and no {target} (an interrupted restore): renamed it back to {target}"

    @contextmanager
    def scratch_database(self, purpose: str, *, keep: bool = False, note: str = "") -> Iterator[str]:
        """A new empty database, dropped afterwards whatever happens (Ctrl-C included) unless `keep`;
        a kill leaves it to the next run's clean-up (its name and comment say whose it is).
        `note` is added to its comment (what it is for)."""
        name = scratch_database_name(purpose, kept=keep)
        try:
            self.create_database(name, temporary=not keep, purpose=note)
            yield name
        finally:
            if not keep:
                self.drop_database(name)


def refuse_reserved(database: str) -> str:
    """`database`, unless its name is one the clean-up of killed runs owns (debris.py) or a swap uses.

    Raises ToolingError."""
    if (database.startswith((SCRATCH_PREFIX, LOAD_ROLE_PREFIX))
            or database.endswith((STAGING_SUFFIX, RETIRED_SUFFIX))):
        raise ToolingError(f"the database name {database!r} is reserved for the tooling's temporary "
                           f"databases (names starting {SCRATCH_PREFIX} or {LOAD_ROLE_PREFIX}, or ending "
                           f"{STAGING_SUFFIX} or {RETIRED_SUFFIX}): choose another")
    return database


def retired_name(target: str) -> str:
    """Where a swap keeps the old `target` until the new one answers."""
    return f"{target[:63 - len(RETIRED_SUFFIX)]}{RETIRED_SUFFIX}"

