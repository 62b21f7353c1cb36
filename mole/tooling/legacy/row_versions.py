"""Tables the migration wrote no row into, known from their row versions instead of their values.

PostgreSQL stamps every row version it writes (INSERT, UPDATE, COPY, an ALTER TABLE that rewrites
the table) with the id of the writing transaction, the system column `xmin` (PostgreSQL docs,
"System Columns"; "Transaction Isolation"). A boundary is taken before the row digests: a new
transaction id, and each table's physical identity (relation id, primary key, and each column's
attribute number, name, type, type modifier and generation). After the migration, a table whose
identity still holds for those columns, whose row count is the same, and none of whose rows is
newer than the boundary, holds exactly the rows it held then: its inventory is the one taken before,
and it is not read again (at 1M poses that read was 2.5 s of one core beside the migrated dump).

Only tables whose compared columns are of base types qualify: an enum label or a domain can change
a value's text form without a row being written (ALTER TYPE ... RENAME VALUE).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable

from schema.quoting import literal as sql_literal
from schema.quoting import qualified
from tooling.server.backends import Backend

SCHEMA = "public"
# Ids wrap at 2^32 (PostgreSQL docs, "Preventing Transaction ID Wraparound Failures").
XID_RANGE = 2**32
# A column: [attnum, name, type oid, typmod, attgenerated, typtype, element typtype or ""].
IDENTITIES = f"""
SELECT coalesce(json_object_agg(n.nspname || '.' || c.relname, json_build_object(
    'relation', c.oid::int8,
    'key', (SELECT k.conkey FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'),
    'columns', coalesce((SELECT json_object_agg(a.attname, json_build_array(
                    a.attnum, a.atttypid::int8, a.atttypmod, a.attgenerated, t.typtype,
                    coalesce(e.typtype::text, '')))
                FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                LEFT JOIN pg_type e ON e.oid = t.typelem
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{{}}'))), '{{}}')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = {sql_literal(SCHEMA)} AND c.relkind = 'r'
"""


@dataclass(frozen=True)
class RowBoundary:
    """`xid`: a transaction id assigned before the digests (32-bit, as `xmin` holds it); `tables`:
    each `public.table`'s identity then ({"relation", "key", "columns": {name: [...]}})."""

    xid: int
    tables: dict[str, dict]


def mark_boundary(backend: Backend, database: str) -> RowBoundary:
    """Take the boundary in `database`: one transaction that is given an id (txid_current) and
    reads every table's identity. Raises CommandFailed when psql fails."""
    answer = json.loads(backend.tools.value(
        f"SELECT json_build_object('xid', txid_current() % {XID_RANGE}, 'tables', ({IDENTITIES}))",
        database=database,
    ))
    return RowBoundary(answer["xid"], answer["tables"])


def base_typed(identity: dict) -> bool:
    """Whether every column's type (and an array's element type) is a base type."""
    return all(column[4] == "b" and column[5] in ("", "b") for column in identity["columns"].values())


def same_identity(before: dict, now: dict | None) -> bool:
    """The same relation and primary key, and each column of `before` unchanged in `now` (columns
    added since are allowed: they hold no original value)."""
    if now is None or (now["relation"], now["key"]) != (before["relation"], before["key"]):
        return False
    return all(now["columns"].get(name) == column for name, column in before["columns"].items())


def unwritten_tables(
    backend: Backend, database: str, boundary: RowBoundary, rows_before: dict[str, int],
    tables: Iterable[str],
) -> set[str]:
    """Of `tables` (`public.table`), those the work since `boundary` wrote no row into: same
    identity, base types, the row count of `rows_before`, no row newer than the boundary. Reads
    each candidate's `xmin` once (no value is converted or hashed). Raises CommandFailed when
    psql fails."""
    now = json.loads(backend.tools.value(IDENTITIES, database=database))
    candidates = sorted(
        name for name in tables
        if name in boundary.tables and name in rows_before and base_typed(boundary.tables[name])
        and same_identity(boundary.tables[name], now.get(name))
    )
    if not candidates:
        return set()
    # age() counts back from one point for the whole statement: a row is newer than the boundary
    # exactly when its age is smaller than the boundary's.
    newer = f"age(xmin) < (SELECT age('{boundary.xid}'::xid))"
    union = " UNION ALL ".join(
        f"(SELECT {sql_literal(name)} AS name, json_build_array(count(*), count(*) FILTER (WHERE {newer}))"
        f" AS found FROM {qualified(*name.split('.', 1))})"
        for name in candidates
    )
    found = json.loads(backend.tools.value(
        f"SELECT json_object_agg(name, found) FROM ({union}) AS tables", database=database) or "{}")
    return {name for name, (rows, written) in found.items() if rows == rows_before[name] and not written}
