"""What data a database holds, per table and column, so that a migration can prove it lost none.

One query reads, for every table, the row count and, per column, the number of
non-NULL values and an order-independent checksum of (primary key, value). A
value that survives a rename or a move into the `legacy` schema keeps its
checksum, so it is recognised wherever it went.
"""

from __future__ import annotations

import json
from typing import TypedDict

from schema.model import Schema
from schema.model import Table
from schema.quoting import identifier as quote_identifier
from schema.quoting import literal as sql_literal
from tooling.server.backends import Backend


class ColumnInventory(TypedDict):
    """One column: its type's text, how many values are not NULL, the sum of their hashes."""

    type: str
    non_null: int
    checksum: str


class TableInventory(TypedDict):
    rows: int
    columns: dict[str, ColumnInventory]


Inventory = dict[str, TableInventory]  # by `schema.table`

# Bookkeeping, not experiment data: the pipeline itself records migrations as applied.
SKIPPED_TABLES = {("legacy", "alignments"), ("public", "django_migrations")}
ROWS_KEY = "'#rows'"


def row_key(table: Table) -> str:
    """SQL text of a row's primary key (`''` without one), part of each value's checksum."""
    primary = table.primary_key
    if not primary:
        return "''"
    return " || ',' || ".join(f"{quote_identifier(column)}::text" for column in primary.columns)


def table_query(schema: str, name: str, table: Table) -> str:
    """The inventory query of one table: row count, and per column its non-NULL count and
    the sum of hashes of (key, value)."""
    key = row_key(table)
    parts = [ROWS_KEY, "count(*)"]
    for column in table.columns:
        quoted = quote_identifier(column)
        parts += [
            sql_literal(column),
            f"json_build_array(count({quoted}), "
            f"sum(hashtextextended({key} || '|' || {quoted}::text, 0)::numeric)::text)",
        ]
    # json_build_object takes at most 100 arguments; wide tables are split and merged.
    objects = [
        f"jsonb_build_object({', '.join(parts[start : start + 100])})" for start in range(0, len(parts), 100)
    ]
    source = f"{quote_identifier(schema)}.{quote_identifier(name)}"
    return f"SELECT {sql_literal(f'{schema}.{name}')} AS name, ({' || '.join(objects)}) AS data FROM {source}"


def take_inventory(backend: Backend, database: str, snapshots: dict[str, Schema]) -> Inventory:
    """{`schema.table`: {"rows": n, "columns": {name: {"type", "non_null", "checksum"}}}}.

    `snapshots` maps a schema name (public, legacy) to its schema snapshot.
    """
    queries = []
    types: dict[str, dict[str, str]] = {}
    for schema, snapshot in snapshots.items():
        for name, table in snapshot.tables.items():
            if (schema, name) in SKIPPED_TABLES:
                continue
            queries.append(table_query(schema, name, table))
            types[f"{schema}.{name}"] = {c: column.type.text for c, column in table.columns.items()}
    if not queries:
        return {}
    union = " UNION ALL ".join(f"({query})" for query in queries)
    query = f"SELECT json_object_agg(name, data) FROM ({union}) AS tables"
    result = backend.tools.query(query, database=database)
    raw = json.loads(result.stdout.strip() or "{}")
    inventory = {}
    for qualified, data in raw.items():
        columns = {
            column: {"type": column_type, "non_null": data[column][0], "checksum": data[column][1]}
            for column, column_type in types[qualified].items()
        }
        inventory[qualified] = {"rows": data["#rows"], "columns": columns}
    return inventory
