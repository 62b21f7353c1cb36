"""What data a database holds, per table and column, so that a migration can prove it lost none.

One query reads, for every table, the row count and, per column, the number of
non-NULL values and an order-independent checksum: the sum of each value's digest
bound to its row's key (the XOR of the two 64-bit hashes, row_proof.py). A value that
survives a rename or a move into the `legacy` schema keeps its checksum, so it is
recognised wherever it went. Tables the row proof digested are summed from their
digests, so no value is hashed twice; others are read as they are.
"""

from __future__ import annotations

import json
from typing import Iterable
from typing import TypedDict

from schema.model import Schema
from schema.quoting import identifier as quote_identifier
from schema.quoting import literal as sql_literal
from tooling.legacy.row_proof import SKIPPED_TABLES
from tooling.legacy.row_proof import TEXT_SETTINGS
from tooling.legacy.row_proof import RecordedTable
from tooling.legacy.row_proof import digest
from tooling.legacy.row_proof import key_digest
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


def sums_query(name: str, source: str, row_key: str, values: dict[str, str]) -> str:
    """The inventory query of one table: {"rows": its row count, "columns": per column its
    non-NULL count and the sum of its value digests bound to `row_key` (SQL of the row's key
    digest)}. `values` maps each column to the SQL of its digest in `source`. The sum of int8 is
    exact (PostgreSQL adds in 128 bits and returns numeric) and several times faster than a sum
    of numeric."""
    parts = []
    for column, value in values.items():
        parts += [sql_literal(column),
                  f"json_build_array(count({value}), sum({row_key} # {value})::text)"]
    # json_build_object takes at most 100 arguments; wide tables are split and merged.
    objects = [
        f"jsonb_build_object({', '.join(parts[start : start + 100])})" for start in range(0, len(parts), 100)
    ] or ["'{}'::jsonb"]
    return (f"SELECT {sql_literal(name)} AS name, jsonb_build_object('rows', count(*), 'columns', "
            f"{' || '.join(objects)}) AS data FROM {source}")


def take_inventory(
    backend: Backend,
    database: str,
    snapshots: dict[str, Schema],
    digested: Iterable[RecordedTable] = (),
    *,
    columns_of: dict[str, set[str]] | None = None,
    tables: set[str] | None = None,
) -> Inventory:
    """{`schema.table`: {"rows": n, "columns": {name: {"type", "non_null", "checksum"}}}}.

    `snapshots` maps a schema name (public, legacy) to its schema snapshot; `digested` are
    the row proof's digests of their tables, taken just now (`record_rows`). `columns_of`
    names the only columns to sum in some tables (`schema.table`: names); others get all.
    `tables` names the only tables to read (`schema.table`); None reads all.
    """
    queries = []
    types: dict[str, dict[str, str]] = {}
    recorded = {item.table: item for item in digested}
    for schema, snapshot in snapshots.items():
        for name, table in snapshot.tables.items():
            if (schema, name) in SKIPPED_TABLES:
                continue
            qualified = f"{schema}.{name}"
            if tables is not None and qualified not in tables:
                continue
            wanted = (columns_of or {}).get(qualified)
            columns = [column for column in table.columns if wanted is None or column in wanted]
            item = recorded.get(qualified)
            if item is not None:
                values = {column: item.digest_of(column) for column in columns}
                queries.append(sums_query(qualified, item.proof, "key_digest", values))
            else:
                values = {column: digest(column) for column in columns}
                source = f"{quote_identifier(schema)}.{quote_identifier(name)}"
                queries.append(sums_query(qualified, source, key_digest(table), values))
            types[qualified] = {column: table.columns[column].type.text for column in columns}
    if not queries:
        return {}
    union = " UNION ALL ".join(f"({query})" for query in queries)
    query = f"SELECT json_object_agg(name, data) FROM ({union}) AS tables"
    result = backend.tools.query(f"{TEXT_SETTINGS} {query}", database=database)
    raw = json.loads(result.stdout.strip() or "{}")
    inventory = {}
    for qualified, data in raw.items():
        columns = {
            column: {"type": column_type, "non_null": data["columns"][column][0],
                     "checksum": data["columns"][column][1]}
            for column, column_type in types[qualified].items()
        }
        inventory[qualified] = {"rows": data["rows"], "columns": columns}
    return inventory
