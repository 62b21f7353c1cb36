"""Plain indexes of a dump, built after its load by two sessions at once.

PostgreSQL builds one index at a time in a session, and a Mole dump's indexes (a GiST index and
four btrees on the poses alone) took about half of its load. The loader holds back each plain
`CREATE INDEX` of the dump (not unique, not on ONLY a parent, not CONCURRENTLY, on a table named
with its schema and not a temporary one: nothing else of a dump can depend on one, and another
session finds its table), as long as only more indexes and foreign keys follow; any other
statement releases them into the script first, in their order.

What is still held when the script ends would have run in the session as the script left it. So
the script's last statement copies that session's own settings (pg_settings, source "session":
search_path, standard_conforming_strings, whatever SET, set_config or a function changed) into a
table of a private schema. After the script's transaction commits, the defaults a script may
have given its role and database (ALTER ROLE or DATABASE ... SET, run by a function) are reset
from outside, so a new session starts as the loading one did (load_role.reset_defaults); then
BUILDING_SESSIONS sessions as the load role, each a psql in restricted mode, set the copied
settings first and build the indexes, each followed by the loader's settings check. Two
sessions may build indexes of one table at once (CREATE INDEX takes a SHARE lock, PostgreSQL
docs, "Explicit Locking").
"""
from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from typing import Callable
from typing import Iterator

from pglast import ast
from pglast import enums

BUILDING_SESSIONS = 2
# Indexes of tables this large (1 MiB) are built one per psql call; smaller ones share one call.
ALONE_PAGES = 128


@dataclass(frozen=True)
class HeldIndex:
    """One held-back statement: its table (schema, name), access method, and the bytes psql gets
    (the dump's statement, then the loader's settings check)."""

    table: tuple[str, str]
    method: str
    text: bytes


@dataclass
class HeldIndexes:
    """The indexes a script holds back, and the private schema its session's settings go to."""

    indexes: list[HeldIndex] = field(default_factory=list)
    schema: str = field(default_factory=lambda: f"mole_held_{secrets.token_hex(6)}")

    def takes(self, node: ast.Node | None, text: bytes) -> bool:
        """Whether `node` (`text`) is a plain CREATE INDEX this may hold back."""
        return (
            isinstance(node, ast.IndexStmt) and bool(node.idxname)
            and not (node.unique or node.primary or node.isconstraint or node.concurrent)
            and node.relation.inh and not node.tableSpace and bool(node.relation.schemaname)
            # Session-local objects: another session has none.
            and not node.relation.schemaname.lower().startswith("pg_temp") and b"pg_temp" not in text.lower()
        )

    def hold(self, node: ast.IndexStmt, text: bytes) -> None:
        """Hold back `node`, whose bytes for psql are `text`."""
        table = (node.relation.schemaname, node.relation.relname)
        self.indexes.append(HeldIndex(table, node.accessMethod or "btree", text))

    def passing(self, node: ast.Node | None) -> bytes:
        """What goes to psql before the sent statement `node`: nothing while it cannot depend on
        a held index (another index, a foreign key), else every held index first."""
        if isinstance(node, ast.IndexStmt) or is_foreign_key(node):
            return b""
        released = b"".join(index.text for index in self.indexes)
        self.indexes = []
        return released

    def settings_copied(self) -> bytes:
        """The script's last statement when indexes are still held: the session's own settings
        into `schema`.settings (every name qualified: a dump may put its own `=` first), but the
        transaction's, which only its first statement may set."""
        if not self.indexes:
            return b""
        return (
            f"CREATE SCHEMA {self.schema}; CREATE TABLE {self.schema}.settings AS "
            "SELECT name, setting FROM pg_catalog.pg_settings WHERE source OPERATOR(pg_catalog.=) "
            "'session' AND NOT pg_catalog.starts_with(name, 'transaction_');\n"
        ).encode()


def is_foreign_key(node: ast.Node | None) -> bool:
    """ALTER TABLE that only adds foreign keys (pg_dump's last step): no plain index serves one."""
    return isinstance(node, ast.AlterTableStmt) and bool(node.cmds) and all(
        command.subtype == enums.AlterTableType.AT_AddConstraint
        and getattr(command.def_, "contype", None) == enums.ConstrType.CONSTR_FOREIGN
        for command in node.cmds
    )


def build_held(
    held: HeldIndexes,
    table_pages: Callable[[set[tuple[str, str]]], dict[tuple[str, str], int]],
    run: Callable[[Iterator[bytes]], None],
) -> None:
    """Build the indexes `held` still has after the script's transaction, BUILDING_SESSIONS at a
    time: each index of a table of ALONE_PAGES pages or more (`table_pages`: pages by (schema,
    name)) in its own script, the others together; largest tables first, GiST before btree on
    the same table. `run` feeds one script to psql as the load role (raises CommandFailed). On
    an error or Ctrl-C, no further script starts."""
    if not held.indexes:
        return
    pages = table_pages({index.table for index in held.indexes})
    alone = [index for index in held.indexes if pages.get(index.table, 0) >= ALONE_PAGES]
    alone.sort(key=lambda index: (-pages.get(index.table, 0), index.method == "btree"))
    together = [index for index in held.indexes if pages.get(index.table, 0) < ALONE_PAGES]
    units = [[index] for index in alone] + ([together] if together else [])
    sessions = ThreadPoolExecutor(max_workers=BUILDING_SESSIONS)
    try:
        for finished in [sessions.submit(run, script(held.schema, unit)) for unit in units]:
            finished.result()
    finally:
        sessions.shutdown(wait=True, cancel_futures=True)


def script(schema: str, indexes: list[HeldIndex]) -> Iterator[bytes]:
    """One building session's script: psql's restricted mode, the loading session's settings as
    the script left them, then `indexes`."""
    yield f"\\restrict {secrets.token_hex(16)}\n".encode()
    yield (f"SELECT pg_catalog.count(pg_catalog.set_config(name, setting, false)) "
           f"FROM {schema}.settings;\n").encode()
    for index in indexes:
        yield index.text
