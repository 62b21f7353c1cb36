"""Creating, renaming, replacing and dropping databases on a backend's server.

Every name is checked (`names.safe_database`) and then quoted (`schema.quoting`), never
formatted into SQL as it is. The SQL runs through `PostgresTools`, so it works the same over
every transport.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from tooling.debris import comment_on
from tooling.debris import marker_comment
from tooling.debris import scratch_database_name
from tooling.fault_injection import fault_point
from tooling.fault_injection import pause_point
from tooling.names import quote_identifier
from tooling.process import ProcessRunner
from tooling.server.extensions import create_extensions_sql
from tooling.server.postgres_tools import PostgresTools
from tooling.server.server_sql import name_literal

RETIRED_SUFFIX = "__replaced"


def retired_name(target: str) -> str:
    """Where a swap keeps the old `target` until the new one answers."""
    return f"{target[:63 - len(RETIRED_SUFFIX)]}{RETIRED_SUFFIX}"


class DatabaseAdmin:
    """Database administration on one server, through `tools`; `runner.dry` makes it only print."""

    def __init__(self, tools: PostgresTools, runner: ProcessRunner) -> None:
        self.tools = tools
        self.runner = runner

    def database_exists(self, name: str) -> bool:
        """True when database `name` exists on the server."""
        return self.tools.value(f"SELECT 1 FROM pg_database WHERE datname = {name_literal(name)}") == "1"

    def create_database(
        self, name: str, *, temporary: bool = False, purpose: str = "", bare: bool = False
    ) -> None:
        """Create `name` with Mole's extensions (`extensions.MOLE_EXTENSIONS`); a `temporary` one
        is marked with this run as its owner and `purpose` (see debris.py).

        A `bare` one is a copy of template0, with no extension yet: for a dump that creates
        its own, with the schemas they live in (pg_dump writes `CREATE SCHEMA tiger`, which
        would fail where the extension made it already); call `ensure_extensions` after it.
        """
        template = " TEMPLATE template0" if bare else ""
        statements = [f"CREATE DATABASE {quote_identifier(name)}{template}"]
        if temporary:
            statements.append(marker_comment("DATABASE", name, purpose))
        self.tools.statements(statements)
        if not bare:
            self.ensure_extensions(name)

    def ensure_extensions(self, name: str) -> None:
        """Create those of Mole's extensions that `name` lacks. A no-op where template1 has them
        (the local server); the PostGIS image creates them in its own database only."""
        self.tools.statements([create_extensions_sql()], database=name)

    def available_extensions(self, database: str) -> set[str]:
        """Names of the extensions this server can create (installed on it, created or not)."""
        found = self.tools.query("SELECT name FROM pg_available_extensions", database=database)
        return set(found.stdout.split())

    def drop_database(self, name: str) -> None:
        """Drop `name` if it exists, ending its sessions (PostgreSQL 13+ `WITH (FORCE)`)."""
        self.tools.statements([f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)"])

    def rename_database(self, old: str, new: str, *, was_temporary: bool = False) -> None:
        """Rename `old` to `new`; `was_temporary` also removes its marker in the same transaction
        (under a permanent name it must never look like debris)."""
        unmark = f"{comment_on('DATABASE', old, None)}; " if was_temporary else ""
        self.tools.statements([
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
        self.tools.statements([
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname IN ({name_literal(target)}, {name_literal(replacement)}) "
            "AND pid <> pg_backend_pid()",
            f"BEGIN; ALTER DATABASE {quote_identifier(target)} RENAME TO {quote_identifier(retired)}; "
            f"{fault_point('between-renames')}"
            f"{comment_on('DATABASE', replacement, None)}; "
            f"ALTER DATABASE {quote_identifier(replacement)} RENAME TO {quote_identifier(target)}; COMMIT",
        ])
        pause_point("restore-swapped")
        self.tools.query("SELECT 1", database=target)
        self.drop_database(retired)

    def repair_interrupted_swap(self, target: str) -> str | None:
        """Finish or undo a swap that was cut short; a sentence saying what was found and done, or None."""
        retired = retired_name(target)
        if self.runner.dry or not self.database_exists(retired):
            return None
        if self.database_exists(target):
            self.tools.query("SELECT 1", database=target)
            self.drop_database(retired)
            return (f"found {retired} from an interrupted restore whose new {target} is in place: "
                    f"dropped {retired}")
        self.rename_database(retired, target)
        return f"found {retired} and no {target} (an interrupted restore): renamed it back to {target}"

    @contextmanager
    def scratch_database(
        self, purpose: str, *, keep: bool = False, note: str = "", bare: bool = False
    ) -> Iterator[str]:
        """A new empty database, dropped afterwards whatever happens (Ctrl-C included) unless `keep`;
        a kill leaves it to the next run's clean-up (its name and comment say whose it is).
        `note` is added to its comment (what it is for); `bare` as in `create_database`."""
        name = scratch_database_name(purpose, kept=keep)
        try:
            self.create_database(name, temporary=not keep, purpose=note, bare=bare)
            yield name
        finally:
            if not keep:
                self.drop_database(name)
