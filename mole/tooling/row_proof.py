"""A per-row proof that a migration kept every original value: digests before, compared by key after.

Before the migration, each table with a primary key gets a private table of digests in
schema `mole_row_proof` of the scratch database: one row per original row, its primary
key as text and one 64-bit digest per column (`hashtextextended` of the value's text
form, PostgreSQL docs "Hash functions"; NULL stays NULL). After the migration each
original row is looked up by key where the data check found its table and columns:
a row must still be there, and every original non-NULL value must have the same digest.
Rows a migration added and NULLs it filled are allowed; nothing else is.

The digests detect accidental change (a migration's bug), not a forger: 64 bits, no key.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .backends import Backend
from .data_inventory import SKIPPED_TABLES
from .names import quote_sql_identifier as quote_identifier
from .names import sql_literal

PROOF_SCHEMA = "mole_row_proof"
SHOWN_KEYS = 3


@dataclass(frozen=True)
class RecordedTable:
    """`table` is `schema.name`; `proof` the digest table; digest i belongs to `columns[i]`."""

    table: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    proof: str


@dataclass(frozen=True)
class RowDifference:
    """Original rows missing (`column` None) or original values changed, with the first keys."""

    table: str
    column: str | None
    count: int
    first_keys: tuple[str, ...]

    def describe(self) -> str:
        keys = ", ".join(self.first_keys)
        if self.column is None:
            return f"{self.table}: {self.count} original rows missing (first keys: {keys})"
        return f"{self.table}.{self.column}: {self.count} original values changed (first keys: {keys})"


def key_text(columns: tuple[str, ...], alias: str = "") -> str:
    """The primary key as one text value (its columns' text forms, comma separated)."""
    prefix = f"{alias}." if alias else ""
    return " || ',' || ".join(f"{prefix}{quote_identifier(column)}::text" for column in columns)


def digest(column: str) -> str:
    return f"hashtextextended({quote_identifier(column)}::text, 0)"


def record_rows(backend: Backend, database: str, snapshot: dict[str, Any]) -> list[RecordedTable]:
    """Keep the digests of every row of `snapshot`'s tables (schema public) in `database`.

    Tables without a primary key are left out (the inventory's sums cover them).
    """
    recorded, statements = [], [f"CREATE SCHEMA {PROOF_SCHEMA}"]
    for number, (name, table) in enumerate(sorted(snapshot["tables"].items())):
        primary = next((c for c in table["constraints"] if c["type"] == "p"), None)
        if primary is None or ("public", name) in SKIPPED_TABLES:
            continue
        item = RecordedTable(f"public.{name}", tuple(primary["columns"]), tuple(table["columns"]),
                             f"{PROOF_SCHEMA}.t{number}")
        digests = ", ".join(digest(column) for column in item.columns)
        statements.append(
            f"CREATE TABLE {item.proof} AS SELECT {key_text(item.key)} AS key, "
            f"ARRAY[{digests}]::int8[] AS digests FROM public.{quote_identifier(name)}"
        )
        recorded.append(item)
    if not backend.runner.dry:
        backend.sql_statements(["BEGIN; " + "; ".join(statements) + "; COMMIT"], database=database)
    return recorded


def compare_rows(
    backend: Backend, database: str, recorded: list[RecordedTable], places: dict[str, Any]
) -> tuple[list[RowDifference], list[str]]:
    """Compare each recorded table with where it went; (differences, tables that could not be compared).

    `places` is `DataCheck.places`: for a recorded `schema.table`, {"table": its place after,
    "columns": {column: its name there}, "compare": [columns whose values must be unchanged]}.
    A column not in "compare" is reported by the data check (dropped, converted to a new
    type, moved to another table).
    """
    queries, unproven = [], []
    for item in recorded:
        place = places.get(item.table)
        if place is None:
            continue
        columns = place["columns"]
        if not all(column in columns for column in item.key):
            unproven.append(f"{item.table}: its primary key columns moved, rows not compared by key")
            continue
        queries.append(comparison_query(item, place["table"], columns, place["compare"]))
    if not queries or backend.runner.dry:
        return [], unproven
    # One query for all tables: one round trip, and the server plans each join on its own.
    union = " UNION ALL ".join(f"({query})" for query in queries)
    result = backend.sql(f"SELECT json_object_agg(name, found) FROM ({union}) AS tables", database=database)
    differences = [
        RowDifference(table, column or None, count, tuple(keys or ()))
        for table, found in sorted(json.loads(result.stdout.strip()).items())
        for column, (count, keys) in found.items()
        if count
    ]
    return differences, unproven


def comparison_query(item: RecordedTable, place: str, columns: dict[str, str], compare: list[str]) -> str:
    """One row: the recorded table's name, and {column ("" for whole rows): [count, first keys]}."""
    schema, name = place.split(".", 1)
    compared = [(index, column) for index, column in enumerate(item.columns) if column in compare]
    after_key = key_text(tuple(columns[column] for column in item.key))
    after_digests = ", ".join(f"{digest(columns[column])} AS d{index}" for index, column in compared)
    conditions = {"": "now.key IS NULL"}
    for index, column in compared:
        before = f"before.digests[{index + 1}]"
        conditions[column] = (f"now.key IS NOT NULL AND {before} IS NOT NULL "
                              f"AND {before} IS DISTINCT FROM now.d{index}")
    counts = [
        f"{sql_literal(column)}, jsonb_build_array(count(*) FILTER (WHERE {condition}), "
        f"(array_agg(before.key ORDER BY before.key) FILTER (WHERE {condition}))[1:{SHOWN_KEYS}])"
        for column, condition in conditions.items()
    ]
    # jsonb_build_object takes at most 100 arguments: wide tables are built in parts and merged.
    merged = " || ".join(
        f"jsonb_build_object({', '.join(counts[start:start + 50])})" for start in range(0, len(counts), 50)
    )
    return (
        f"SELECT {sql_literal(item.table)} AS name, {merged} AS found FROM {item.proof} AS before LEFT JOIN "
        f"(SELECT {after_key} AS key{', ' if after_digests else ''}{after_digests} "
        f"FROM {quote_identifier(schema)}.{quote_identifier(name)}) AS now ON now.key = before.key"
    )


def drop_proof(backend: Backend, database: str) -> None:
    """Remove the digests: the migrated database must hold Mole's schemas only."""
    backend.sql_statements([f"DROP SCHEMA IF EXISTS {PROOF_SCHEMA} CASCADE"], database=database)
