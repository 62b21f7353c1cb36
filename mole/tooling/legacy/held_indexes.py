"""Plain indexes of a dump, built after its load by two sessions at once.

PostgreSQL builds one index at a time in a session, and a Mole dump's indexes (a GiST index and
four btrees on the poses alone) took about half of its load. The loader holds back each plain
`CREATE INDEX` of the dump (not unique, not on ONLY a parent, not CONCURRENTLY: nothing else of
a dump can depend on one), as long as only more indexes and foreign keys follow; any other
statement releases them into the script first, in their order. What is still held when the
script ends is built after its transaction commits, by BUILDING_SESSIONS sessions as the load
role, each a psql in restricted mode that first replays the script's settings statements
(`SET`, pg_dump's `set_config` of search_path), so each index is read as the script would have
read it. Two sessions may build indexes of one table at once (CREATE INDEX takes a SHARE lock,
PostgreSQL docs, "Explicit Locking").
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
    (the dump's statement, then the loader's settings assertion)."""

    table: tuple[str, str]
    method: str
    text: bytes


@dataclass
class HeldIndexes:
    """What a script holds back: the indexes, and the settings statements made before them."""

    settings: list[bytes] = field(default_factory=list)
    indexes: list[HeldIndex] = field(default_factory=list)
    stopped: bool = False  # a setting was made in a way that cannot be replayed: hold no more

    def takes(self, node: ast.Node | None) -> bool:
        """Whether `node` is a plain CREATE INDEX this may hold back."""
        return (
            not self.stopped and isinstance(node, ast.IndexStmt) and bool(node.idxname)
            and not (node.unique or node.primary or node.isconstraint or node.concurrent)
            and node.relation.inh and not node.tableSpace
        )

    def hold(self, node: ast.IndexStmt, text: bytes) -> None:
        """Hold back `node`, whose bytes for psql are `text`."""
        table = (node.relation.schemaname or "public", node.relation.relname)
        self.indexes.append(HeldIndex(table, node.accessMethod or "btree", text))

    def passing(self, node: ast.Node | None, text: bytes) -> bytes:
        """What goes to psql before the sent statement `node` (`text`): nothing while it cannot
        depend on a held index (another index, a foreign key), else every held index first. A
        settings statement is kept for the replay; one that cannot be replayed stops the holding."""
        released = b"" if isinstance(node, ast.IndexStmt) or is_foreign_key(node) else self.release()
        if isinstance(node, ast.VariableSetStmt) or is_set_config(node):
            self.settings.append(text)
        elif isinstance(node, ast.SelectStmt) and b"set_config" in text.lower():
            self.stopped = True
        return released

    def release(self) -> bytes:
        """The held indexes as script text, in their order; none are held after."""
        released = b"".join(index.text for index in self.indexes)
        self.indexes = []
        return released


def is_foreign_key(node: ast.Node | None) -> bool:
    """ALTER TABLE that only adds foreign keys (pg_dump's last step): no plain index serves one."""
    return isinstance(node, ast.AlterTableStmt) and bool(node.cmds) and all(
        command.subtype == enums.AlterTableType.AT_AddConstraint
        and getattr(command.def_, "contype", None) == enums.ConstrType.CONSTR_FOREIGN
        for command in node.cmds
    )


def is_set_config(node: ast.Node | None) -> bool:
    """pg_dump's `SELECT pg_catalog.set_config('search_path', '', false)`: only calls of
    set_config with constant arguments, nothing else selected."""
    if not isinstance(node, ast.SelectStmt) or not node.targetList or node.fromClause:
        return False
    for target in node.targetList:
        call = target.val
        if not isinstance(call, ast.FuncCall) or call.funcname[-1].sval != "set_config":
            return False
        if not all(isinstance(argument, ast.A_Const) for argument in call.args or ()):
            return False
    return True


def build_held(
    held: HeldIndexes,
    table_pages: Callable[[set[tuple[str, str]]], dict[tuple[str, str], int]],
    run: Callable[[Iterator[bytes]], None],
    client_encoding: str,
) -> None:
    """Build the indexes `held` still has after the script's transaction, BUILDING_SESSIONS at a
    time: each index of a table of ALONE_PAGES pages or more (`table_pages`: pages by (schema, name))
    in its own script, the others together; largest tables first, GiST before btree on the
    same table. `run` feeds one script to psql as the load role (raises CommandFailed);
    `client_encoding` is the one the loader's script started with."""
    if not held.indexes:
        return
    pages = table_pages({index.table for index in held.indexes})
    alone = [index for index in held.indexes if pages.get(index.table, 0) >= ALONE_PAGES]
    alone.sort(key=lambda index: (-pages.get(index.table, 0), index.method == "btree"))
    together = [index for index in held.indexes if index not in alone]
    units = [[index] for index in alone] + ([together] if together else [])
    with ThreadPoolExecutor(max_workers=BUILDING_SESSIONS) as sessions:
        built = [sessions.submit(run, script(held.settings, unit, client_encoding)) for unit in units]
        for finished in built:
            finished.result()


def script(settings: list[bytes], indexes: list[HeldIndex], client_encoding: str) -> Iterator[bytes]:
    """One building session's script: psql's restricted mode, the script's start and settings
    statements replayed, then `indexes`."""
    yield f"\\restrict {secrets.token_hex(16)}\n".encode()
    yield f"SET client_encoding = '{client_encoding}';\n".encode()
    yield from settings
    for index in indexes:
        yield index.text
