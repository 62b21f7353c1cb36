"""The one owner of PostgreSQL's client tools: every psql, pg_dump and pg_restore command line the
tooling runs is built here, and run over a backend's transport (a local process, or
`docker compose exec -T` into the postgres service).

The options are PostgreSQL's (docs: "psql", "pg_dump", "pg_restore" reference pages); why each
one is here is said once, where it is set.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import IO
from typing import TYPE_CHECKING
from typing import Callable
from typing import Iterable
from typing import Iterator

from tooling.process import Completed

if TYPE_CHECKING:
    from tooling.legacy.load_role import LoadRole

    from .backends.base import Backend

MAINTENANCE_DATABASE = "postgres"
# -X: no ~/.psqlrc (it could change output or settings); ON_ERROR_STOP: psql exits 0 on SQL
# errors without it.
PSQL = ["-X", "-q", "-v", "ON_ERROR_STOP=1"]
# Unaligned, tuples only: values as plain lines for the caller to read.
PSQL_VALUES = [*PSQL, "-A", "-t"]
# The tooling's queries read each table once: compiling them (PostgreSQL docs, "Just-in-Time
# Compilation") cost more than it saved, about a second per query over 1M rows.
NO_JIT = ["-c", "SET jit = off"]
# Owners and grants name roles of the server the dump came from: none of them exists here.
NO_OWNERSHIP = ["--no-owner", "--no-privileges"]
DUMP_FORMAT_ARGS = ["--format=custom", *NO_OWNERSHIP]
DUMP_FORMAT = "pg_dump custom (-Fc)"
# pg_restore only warns on errors without --exit-on-error.
RESTORE_ARGS = [*NO_OWNERSHIP, "--exit-on-error"]


CLIENT_TOOLS = ("psql", "pg_dump", "pg_restore")


class PostgresTools:
    """psql, pg_dump and pg_restore against the server of `transport` (a Backend: it says how a
    tool runs there, `client_command`; its runner runs it, or only prints it in a dry run)."""

    def __init__(self, transport: Backend) -> None:
        self.transport = transport

    def run(self, tool: str, args: list[str], *, role: LoadRole | None = None, **io) -> Completed:
        """Run `tool` with `args` (the database in them, `--dbname`), as `role` if given; `io` is
        the runner's: capture, check, stdin, stdin_chunks, stdout and the paths naming them."""
        if tool not in CLIENT_TOOLS:
            raise ValueError(f"not a client tool: {tool}")
        command = self.transport.client_command(tool, args, role)
        return self.transport.runner.run(command.argv, env=command.env, **io)

    def query(self, sql: str, *, database: str = MAINTENANCE_DATABASE, check: bool = True) -> Completed:
        """Run `sql` (one command string, one transaction) and capture its values, one row per line."""
        return self.run(
            "psql", [*PSQL_VALUES, f"--dbname={database}", *NO_JIT, "-c", sql], capture=True, check=check
        )

    def value(self, sql: str, *, database: str = MAINTENANCE_DATABASE) -> str:
        """The single value `sql` returns, as text ("" for no row)."""
        return self.query(sql, database=database).stdout.strip()

    def statements(self, statements: list[str], *, database: str = MAINTENANCE_DATABASE) -> None:
        """Run each statement in its own transaction (CREATE and DROP DATABASE need that)."""
        args = [*PSQL, f"--dbname={database}"]
        for statement in statements:
            args += ["-c", statement]
        self.run("psql", args, capture=True)

    def answers(self, *, never_prompt: bool = False) -> Completed:
        """`SELECT 1` on the maintenance database, not checked: does the server take our login?
        `never_prompt` (-w) makes a missing password a refused login rather than a prompt."""
        args = ["-X", *(["-w"] if never_prompt else []), "-A", "-t", f"--dbname={MAINTENANCE_DATABASE}"]
        return self.run("psql", [*args, "-c", "SELECT 1"], capture=True, check=False)

    def run_script(self, database: str, chunks: Iterable[bytes], role: LoadRole) -> None:
        """Feed an SQL script to psql as `role`, all in one transaction; query results (a dump's
        assertions) are thrown away, errors are raised as CommandFailed."""
        self.run(
            "psql",
            [*PSQL, "-o", "/dev/null", "--single-transaction", f"--dbname={database}"],
            stdin_chunks=chunks,
            capture=True,
            role=role,
        )

    def dump(
        self,
        database: str,
        *,
        stdout: IO[bytes] | None = None,
        stdout_path: Path | None = None,
        lock_wait_timeout: str | None = None,
    ) -> None:
        """pg_dump `database` in the custom format to `stdout` (named `stdout_path` in echoes).
        `lock_wait_timeout` (e.g. `60s`) makes it fail rather than wait on a migration's locks."""
        wait = [f"--lock-wait-timeout={lock_wait_timeout}"] if lock_wait_timeout else []
        args = [*DUMP_FORMAT_ARGS, *wait, f"--dbname={database}"]
        self.run("pg_dump", args, stdout=stdout, stdout_path=stdout_path)

    @contextmanager
    def dump_started(
        self, database: str, *, stdout: IO[bytes], stdout_path: Path, exclude_schema: str
    ) -> Iterator[Callable[[], Completed]]:
        """`dump` of `database` without the schema `exclude_schema`, at the fastest compression,
        running in the background while the block runs; the block calls the `wait` it gets (which
        raises CommandFailed when pg_dump failed). Left without waiting, the dump is stopped."""
        # zlib's fastest level: a quarter of the default's CPU for about 15% more bytes (1M poses:
        # 1.3 s and 30 MB against 3.2 s and 26 MB), while the checks need the other core.
        args = [*DUMP_FORMAT_ARGS, "--compress=1", f"--exclude-schema={exclude_schema}",
                f"--dbname={database}"]
        command = self.transport.client_command("pg_dump", args)
        with self.transport.runner.background(command.argv, env=command.env, stdout=stdout,
                                              stdout_path=stdout_path) as wait:
            yield wait

    def dump_plain(self, database: str, options: list[str], *, stdout: IO[bytes]) -> None:
        """pg_dump `database` with `options` as given (the example maker chooses the format)."""
        self.run("pg_dump", [*options, f"--dbname={database}"], stdout=stdout)

    def restore(self, database: str, dump: Path) -> None:
        """pg_restore the custom-format `dump` into `database`, stopping at the first error."""
        with dump.open("rb") as stream:
            self.run("pg_restore", [*RESTORE_ARGS, f"--dbname={database}"], stdin=stream,
                                  stdin_path=dump)

    @contextmanager
    def restore_script(self, dump: IO[bytes], *, schema_only_head: bool = False) -> Iterator[IO[bytes]]:
        """The SQL script pg_restore makes of a custom-format dump, as a stream; with
        `schema_only_head`, only its pre-data section (enough to read its header and settings)."""
        args = [*NO_OWNERSHIP, "--file=-", *(["--section=pre-data"] if schema_only_head else [])]
        command = self.transport.client_command("pg_restore", args)
        with self.transport.runner.output_stream(command.argv, env=command.env, stdin=dump) as script:
            yield script

    def pg_dump_version(self) -> str:
        """`pg_dump (PostgreSQL) 18.6`, as the tool prints it."""
        return self.run("pg_dump", ["--version"], capture=True).stdout.strip()

    def server_version(self) -> str:
        """The server's `server_version` setting, e.g. `18.6`."""
        return self.value("SHOW server_version")
