"""Tables the migration wrote no row into, known from their row versions instead of their values.

PostgreSQL stamps every row version it writes (INSERT, UPDATE, COPY, an ALTER TABLE that rewrites
the table) with the id of the writing transaction, the system column `xmin` (PostgreSQL docs,
"System Columns"; "Transaction Isolation"). A boundary is taken before the row digests: the oldest
transaction id that may still write (the snapshot's xmin, PostgreSQL docs "Transaction ID and
Snapshot Information Functions"; any transaction from it on is counted as after), and each table's
physical identity (relation id, primary key, inheritance, and each column's attribute number,
name, type, type modifier and generation). After the migration, a table whose identity still holds
for those columns, whose row count is the same, and none of whose rows is as new as the boundary,
holds exactly the rows it held then: its inventory is the one taken before, and it is not read
again (at 1M poses that read was 2.5 s of one core beside the migrated dump).

Never kept: a table in an inheritance tree (a child's rows are read through its parent, and rows
deleted from the parent alone would not show), and a table with a column whose text can change
without a row being written: enums (ALTER TYPE ... RENAME VALUE), domains, composites, ranges,
and base types that name catalog objects (the reg* types such as regclass, and aclitem).
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
# A type whose values print the same whatever the catalogs say: a base type (or an array of
# one) whose output function is not a reg* type's or aclitem's (they print catalog names). The
# function is named by its own row: a regproc's text is qualified when another schema has the name.
STABLE_TEXT = """(
    {t}.typtype = 'b' AND NOT EXISTS (
        SELECT FROM pg_proc o WHERE o.oid = {t}.typoutput AND o.pronamespace = 'pg_catalog'::regnamespace
        AND (o.proname ~ '^reg.*out$' OR o.proname = 'aclitemout'))
)"""
# A column: [attnum, type oid, typmod, attgenerated, whether its text is stable].
IDENTITIES = f"""
SELECT coalesce(json_object_agg(n.nspname || '.' || c.relname, json_build_object(
    'relation', c.oid::int8,
    'key', (SELECT k.conkey FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'),
    'inherits', EXISTS (SELECT FROM pg_inherits i WHERE c.oid IN (i.inhrelid, i.inhparent)),
    'columns', coalesce((SELECT json_object_agg(a.attname, json_build_array(
                    a.attnum, a.atttypid::int8, a.atttypmod, a.attgenerated,
                    {STABLE_TEXT.format(t="t")} AND (e.oid IS NULL OR {STABLE_TEXT.format(t="e")})))
                FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                LEFT JOIN pg_type e ON e.oid = t.typelem
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{{}}'))), '{{}}')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = {sql_literal(SCHEMA)} AND c.relkind = 'r'
"""


@dataclass(frozen=True)
class RowBoundary:
    """`xid`: the oldest transaction id that may still write at the boundary (32-bit, as `xmin`
    holds it); `tables`: each `public.table`'s identity then ({"relation", "key", "inherits",
    "columns": {name: [...]}})."""

    xid: int
    tables: dict[str, dict]


def mark_boundary(backend: Backend, database: str) -> RowBoundary:
    """Take the boundary in `database`: one transaction that is given an id (txid_current), so
    that its snapshot's xmin is at most its own, and reads every table's identity. Raises
    CommandFailed when psql fails."""
    answer = json.loads(backend.tools.value(
        "SELECT json_build_object('xid', txid_snapshot_xmin(txid_current_snapshot()) "
        f"% {XID_RANGE}, 'tables', ({IDENTITIES})) FROM (SELECT txid_current()) AS assigned",
        database=database,
    ))
    return RowBoundary(answer["xid"], answer["tables"])


def keepable(identity: dict) -> bool:
    """Outside any inheritance tree, and every column's text stable (see the module's text)."""
    return not identity["inherits"] and all(column[4] for column in identity["columns"].values())


def same_identity(before: dict, now: dict | None) -> bool:
    """The same relation, primary key and inheritance, and each column of `before` unchanged in
    `now` (columns added since are allowed: they hold no original value)."""
    if now is None or any(now[fact] != before[fact] for fact in ("relation", "key", "inherits")):
        return False
    return all(now["columns"].get(name) == column for name, column in before["columns"].items())


def unwritten_tables(
    backend: Backend, database: str, boundary: RowBoundary, rows_before: dict[str, int],
    tables: Iterable[str],
) -> set[str]:
    """Of `tables` (`public.table`), those the work since `boundary` wrote no row into: keepable
    (see the module's text), the same identity, the row count of `rows_before`, no row written by
    a transaction from the boundary on. Reads each candidate's own rows' `xmin` once (no value is
    converted or hashed). Raises CommandFailed when psql fails."""
    now = json.loads(backend.tools.value(IDENTITIES, database=database))
    candidates = sorted(
        name for name in tables
        if name in boundary.tables and name in rows_before and keepable(boundary.tables[name])
        and same_identity(boundary.tables[name], now.get(name))
    )
    if not candidates:
        return set()
    # age() counts back from one point for the whole statement: a row was written by the
    # boundary's transaction or a later one exactly when its age is at most the boundary's.
    newer = f"age(xmin) <= (SELECT age('{boundary.xid}'::xid))"
    union = " UNION ALL ".join(
        f"(SELECT {sql_literal(name)} AS name, json_build_array(count(*), count(*) FILTER (WHERE {newer}))"
        f" AS found FROM ONLY {qualified(*name.split('.', 1))})"
        for name in candidates
    )
    found = json.loads(backend.tools.value(
        f"SELECT json_object_agg(name, found) FROM ({union}) AS tables", database=database) or "{}")
    return {name for name, (rows, written) in found.items() if rows == rows_before[name] and not written}
