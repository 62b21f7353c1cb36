"""A per-row proof that a migration kept every original value: digests before, compared by key after.

Before the migration, each table with a primary key gets a private table of digests in
schema `mole_row_proof` of the scratch database: one row per original row, its primary
key (in its own types), the key's digest, and one 64-bit digest per column
(`hashtextextended` of the value's text form, PostgreSQL docs "Hash functions"; NULL stays
NULL). A PostGIS geometry's text form is its hex EWKB, SRID included, so geometry is
compared exactly. The inventory before the migration (data_inventory.py) sums these
digests, each bound to its row's key; the inventory after sums the same from the tables.

A table whose row count and every compared column's count and sum are the same after is
proven whole by them: a changed, moved or missing value would have to leave its 64-bit
hashes' sums as they were, about as likely (2^-64 for an accidental change) as two values
sharing a digest. Any other table is compared row by row: each original row is looked up by
key where the data check found its table and columns; a row must still be there, and every
original non-NULL value must have the same digest. Rows a migration added and NULLs it
filled are allowed; nothing else is.

The digests detect accidental change (a migration's bug), not a forger: 64 bits, no key.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from schema.django_drift import plural_of
from schema.model import Schema
from schema.model import Table
from schema.quoting import identifier as quote_identifier
from schema.quoting import literal as sql_literal
from schema.quoting import qualified
from tooling.server.backends import Backend

if TYPE_CHECKING:
    from tooling.legacy.data_check import Place

PROOF_SCHEMA = "mole_row_proof"
# Sessions writing the digests at once (this tool's machines have two cores or more), and the size
# from which a table's pages are shared among them (1 MiB: below, a session's start costs more).
RECORDING_SESSIONS = 2
SPLIT_PAGES = 128
# Each session's rows are written by its own process only: parallel workers would only ship the
# digests to it through one more queue. The query is read once: not worth compiling (JIT).
SESSION_SETTINGS = "SET max_parallel_workers_per_gather = 0; SET jit = off;"
# What shapes a value's text, the same in every session that hashes or compares values: a migration
# may change the database's own settings (ALTER DATABASE ... SET), which new sessions take. Floats
# print their shortest exact text, dates ISO, times UTC, bytea hex (PostgreSQL docs, "Client
# Connection Defaults").
TEXT_SETTINGS = ("SET extra_float_digits = 1; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; "
                 "SET TimeZone = 'UTC'; SET bytea_output = 'hex'; SET lc_monetary = 'C';")
SHOWN_KEYS = 3
# Bookkeeping, not experiment data: the pipeline itself records migrations as applied.
SKIPPED_TABLES = {("legacy", "alignments"), ("public", "django_migrations")}


@dataclass(frozen=True)
class RecordedTable:
    """`table` is `schema.name`; `proof` its digest table: keys k0, k1..., `key_digest`, and
    digest d<i> of `columns[i]` (one int8 column each: an array costs its reader more than the sums)."""

    table: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    proof: str

    def digest_of(self, column: str) -> str:
        """The name of `column`'s digest in the digest table."""
        return f"d{self.columns.index(column)}"


@dataclass(frozen=True)
class RowDifference:
    """Original rows missing (`column` None) or original values changed, with the first keys."""

    table: str
    column: str | None
    count: int
    first_keys: tuple[str, ...]

    def describe(self) -> str:
        """One line: how many original rows or values differ, with the first keys."""
        keys = ", ".join(self.first_keys)
        if self.column is None:
            return (f"{self.table}: {self.count} original {plural_of(self.count, 'row')} missing "
                    f"(first keys: {keys})")
        return (f"{self.table}.{self.column}: {self.count} original {plural_of(self.count, 'value')} changed "
                f"(first keys: {keys})")


def key_columns(columns: tuple[str, ...]) -> str:
    """The primary key's columns as `k0, k1, ...`: kept in their own types (a join on them is fast)."""
    return ", ".join(f"{quote_identifier(column)} AS k{index}" for index, column in enumerate(columns))


def key_join(size: int) -> str:
    """SQL matching recorded keys (k0, k1, ...) of `before` and `now`."""
    return " AND ".join(f"now.k{index} = before.k{index}" for index in range(size))


def key_text(size: int) -> str:
    """The recorded key as one text, for the first keys a report names: a key of several columns
    as a row's text, `(x,"y,z")`, which tells a comma inside a value from one between values."""
    if size == 1:
        return "before.k0::text"
    return f"ROW({', '.join(f'before.k{index}' for index in range(size))})::text"


def digest(column: str) -> str:
    """SQL of one value's 64-bit hash (`hashtextextended` of its text form, by its bytes: a
    nondeterministic collation would hash 'alice' and 'ALICE' alike)."""
    return f"hashtextextended({quote_identifier(column)}::text COLLATE \"C\", 0)"


def key_digest(table: Table) -> str:
    """SQL of the hash of a row's primary key as text (`''` without one): the inventory's sums
    bind each value to its row with it. A key of several columns is hashed as a row's text, which
    quotes a value holding a comma (('x,y', 'z') and ('x', 'y,z') differ). Its seed is not the
    values' (a key column's own value would cancel out of the XOR that binds them)."""
    primary = table.primary_key
    if not primary:
        return "hashtextextended('', 1)"
    columns = [quote_identifier(column) for column in primary.columns]
    text = columns[0] if len(columns) == 1 else f"ROW({', '.join(columns)})"
    return f"hashtextextended({text}::text COLLATE \"C\", 1)"


def record_rows(backend: Backend, database: str, snapshot: Schema) -> list[RecordedTable]:
    """Keep the digests of every row of `snapshot`'s tables (schema public) in `database`.

    Tables without a primary key are left out (the inventory's sums cover them). The digests are
    written by RECORDING_SESSIONS sessions at once, each in one transaction: PostgreSQL inserts a
    CREATE TABLE AS's rows in one process whatever its plan, so one session keeps one core busy.
    A table of SPLIT_PAGES pages or more is cut in ranges of its pages (PostgreSQL docs, "System
    Columns": ctid), one per session, and its digest table is a view of their union.
    """
    selects = {}  # each recorded table's digests, as a query
    for number, (name, table) in enumerate(sorted(snapshot.tables.items())):
        primary = table.primary_key
        if primary is None or ("public", name) in SKIPPED_TABLES:
            continue
        item = RecordedTable(f"public.{name}", primary.columns, tuple(table.columns),
                             f"{PROOF_SCHEMA}.t{number}")
        digests = ", ".join(f"{digest(column)} AS d{index}" for index, column in enumerate(item.columns))
        selects[item] = (f"SELECT {key_columns(item.key)}, {key_digest(table)} AS key_digest, {digests} "
                         f"FROM {qualified('public', name)}")
    pages = json.loads(backend.tools.value(
        f"CREATE SCHEMA {PROOF_SCHEMA}; "
        "SELECT json_object_agg(n.nspname || '.' || c.relname, "
        "pg_relation_size(c.oid) / current_setting('block_size')::int) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
        database=database,
    ) or "{}")
    sessions: list[list[str]] = [[] for _ in range(RECORDING_SESSIONS)]
    loads = [0] * RECORDING_SESSIONS
    views = []
    # Largest first, each part to the least loaded session: the sessions end at about the same time.
    for item, select in sorted(selects.items(), key=lambda pair: -pages.get(pair[0].table, 0)):
        size = pages.get(item.table, 0)
        parts = RECORDING_SESSIONS if size >= SPLIT_PAGES else 1
        for part in range(parts):
            target = item.proof if parts == 1 else f"{item.proof}_{part}"
            condition = page_range(size, part, parts)
            # Unlogged: the digests live as long as this run and need no crash safety (half the time).
            statement = f"CREATE UNLOGGED TABLE {target} AS {select}{condition}"
            session = loads.index(min(loads))
            sessions[session].append(statement)
            loads[session] += max(size // parts, 1)
        if parts > 1:
            union = " UNION ALL ".join(f"SELECT * FROM {item.proof}_{part}" for part in range(parts))
            views.append(f"CREATE VIEW {item.proof} AS {union}")
    scripts = [f"{SESSION_SETTINGS} {TEXT_SETTINGS} BEGIN; {'; '.join(statements)}; COMMIT"
               for statements in sessions if statements]
    with ThreadPoolExecutor(max_workers=RECORDING_SESSIONS) as pool:
        for finished in [pool.submit(backend.tools.statements, [script], database=database)
                         for script in scripts]:
            finished.result()
    if views:
        backend.tools.statements(["; ".join(views)], database=database)
    return list(selects)


def page_range(pages: int, part: int, parts: int) -> str:
    """The WHERE clause of the `part`-th of `parts` ranges of a table's `pages` (none for the only
    one). The first range is open below and the last above: rows in pages added since the count
    are still read, by the last."""
    if parts == 1:
        return ""
    low, high = pages * part // parts, pages * (part + 1) // parts
    bounds = ([f"ctid >= '({low},0)'::tid"] if part > 0 else []) + (
        [f"ctid < '({high},0)'::tid"] if part < parts - 1 else [])
    return " WHERE " + " AND ".join(bounds)


@dataclass(frozen=True)
class RowComparison:
    """`differences` found in the `compared` tables; `unproven` says why others could not be compared."""

    differences: list[RowDifference]
    compared: set[str]
    unproven: list[str]


def compare_rows(
    backend: Backend, database: str, recorded: list[RecordedTable], places: dict[str, Place]
) -> RowComparison:
    """Compare each recorded table with where it went.

    `places` is `DataCheck.places`: for a recorded `schema.table`, {"table": its place after,
    "columns": {column: its name there}, "compare": [columns whose values must be unchanged],
    "same_sums": whether the inventories found them whole}. A column not in "compare" is
    reported by the data check (dropped, converted to a new type, moved to another table).
    A table with the same sums is proven by them (see the module's text) and not read again.
    """
    comparisons, unproven, compared = [], [], set()
    for item in recorded:
        place = places.get(item.table)
        if place is None:
            continue
        if not all(column in place["columns"] for column in item.key):
            unproven.append(f"{item.table}: its primary key columns moved, rows not compared by key")
            continue
        compared.add(item.table)
        if not place["same_sums"]:
            comparisons.append(Comparison(item, place["table"], place["columns"], tuple(place["compare"])))
    if not comparisons:
        return RowComparison([], compared, unproven)
    # First one cheap query for all tables (plain counts run in parallel on the server); the
    # per-column counts and first keys only for a table where something differs.
    union = " UNION ALL ".join(f"({comparison.query(detailed=False)})" for comparison in comparisons)
    query = f"SELECT json_object_agg(name, found) FROM ({union}) AS tables"
    result = backend.tools.query(f"{TEXT_SETTINGS} {query}", database=database)
    found = json.loads(result.stdout.strip())
    differences = []
    for comparison in comparisons:
        if not any(found[comparison.item.table].values()):
            continue
        query = f"{TEXT_SETTINGS} SELECT found FROM ({comparison.query(detailed=True)}) AS detailed"
        detailed = json.loads(backend.tools.query(query, database=database).stdout.strip())
        differences += [
            RowDifference(comparison.item.table, column or None, count, tuple(keys or ()))
            for column, (count, keys) in detailed.items()
            if count
        ]
    return RowComparison(differences, compared, unproven)


@dataclass(frozen=True)
class Comparison:
    """One recorded table against its place after the migration (`columns`: names there)."""

    item: RecordedTable
    place: str
    columns: dict[str, str]
    compare: tuple[str, ...]

    def query(self, *, detailed: bool) -> str:
        """One row: the recorded table's name, and {what: count} (`detailed`: {column, "" for whole
        rows: [count, first keys]}; else {"missing": rows, "changed": rows with any value changed})."""
        schema, name = self.place.split(".", 1)
        size = len(self.item.key)
        compared = [(index, column) for index, column in enumerate(self.item.columns)
                    if column in self.compare]
        after_key = ", ".join(f"{quote_identifier(self.columns[column])} AS k{index}"
                              for index, column in enumerate(self.item.key))
        after_digests = "".join(f", {digest(self.columns[column])} AS d{index}" for index, column in compared)
        missing = "now.k0 IS NULL"
        changed = {
            column: f"before.d{index} IS NOT NULL AND before.d{index} IS DISTINCT FROM now.d{index}"
            for index, column in compared
        }
        if detailed:
            conditions = {"": missing} | {column: f"NOT ({missing}) AND {condition}"
                                          for column, condition in changed.items()}
            counts = [
                f"{sql_literal(column)}, jsonb_build_array(count(*) FILTER (WHERE {condition}), "
                f"(array_agg({key_text(size)} ORDER BY {', '.join(f'before.k{i}' for i in range(size))}) "
                f"FILTER (WHERE {condition}))[1:{SHOWN_KEYS}])"
                for column, condition in conditions.items()
            ]
        else:
            any_changed = " OR ".join(f"({condition})" for condition in changed.values()) or "false"
            counts = [f"'missing', count(*) FILTER (WHERE {missing})",
                      f"'changed', count(*) FILTER (WHERE NOT ({missing}) AND ({any_changed}))"]
        # jsonb_build_object takes at most 100 arguments: wide tables are built in parts and merged.
        merged = " || ".join(f"jsonb_build_object({', '.join(counts[start:start + 50])})"
                             for start in range(0, len(counts), 50))
        return (
            f"SELECT {sql_literal(self.item.table)} AS name, {merged} AS found "
            f"FROM {self.item.proof} AS before LEFT JOIN "
            f"(SELECT {after_key}{after_digests} FROM {quote_identifier(schema)}.{quote_identifier(name)}) "
            f"AS now ON {key_join(size)}"
        )


def drop_proof(backend: Backend, database: str) -> None:
    """Remove the digests: the migrated database must hold Mole's schemas only."""
    backend.tools.statements([f"DROP SCHEMA IF EXISTS {PROOF_SCHEMA} CASCADE"], database=database)
