"""Sequences and identity columns that would hand out a value their column already holds.

A dump restores rows with their ids and its sequences with the `setval` it recorded;
when the two disagree (a sequence reset by hand, a dump edited, rows copied in), the
first insert fails on a duplicate key. PostgreSQL docs, "Sequence Manipulation
Functions": after `setval(s, n, true)` the next `nextval` returns n + increment.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from schema.quoting import literal as sql_literal
from tooling.server.backends import Backend

# For each sequence owned by a column (serial: deptype 'a'; identity: 'i') of a table in
# public, a SELECT of its state and the column's max; the names are quoted by format().
STATE_QUERIES = """
SELECT string_agg(format(
    'SELECT %L AS sequence, %L AS "table", %L AS "column", %s AS increment, last_value, is_called, '
    '(SELECT max(%I) FROM %s) AS max_value FROM %s',
    s.seqrelid::regclass, d.refobjid::regclass, a.attname, s.seqincrement, a.attname,
    d.refobjid::regclass, s.seqrelid::regclass), ' UNION ALL ' ORDER BY s.seqrelid::regclass::text)
FROM pg_sequence s
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
JOIN pg_class t ON t.oid = d.refobjid AND t.relnamespace = 'public'::regnamespace
"""


@dataclass(frozen=True)
class SequenceBehind:
    """A sequence whose next value (`next_value`) is not past its column's `max_value`."""

    sequence: str
    table: str
    column: str
    next_value: int
    max_value: int

    def describe(self) -> str:
        """One line: the sequence, its column's max and where the sequence stands."""
        return (f"sequence {self.sequence} would next give {self.next_value}, but {self.table}.{self.column} "
                f"already holds up to {self.max_value}")


def sequences_behind(backend: Backend, database: str) -> list[SequenceBehind]:
    """The increasing sequences of `database`'s public tables that are not past their column's max."""
    queries = backend.tools.query(STATE_QUERIES, database=database).stdout.strip()
    if not queries:
        return []
    states = backend.tools.query(f"SELECT json_agg(state) FROM ({queries}) AS state", database=database)
    found = json.loads(states.stdout)
    behind = []
    for row in found:
        if row["max_value"] is None or row["increment"] <= 0:
            continue
        next_value = row["last_value"] + row["increment"] if row["is_called"] else row["last_value"]
        if next_value <= row["max_value"]:
            behind.append(SequenceBehind(row["sequence"], row["table"], row["column"],
                                         int(next_value), int(row["max_value"])))
    return behind


def set_past_max(backend: Backend, database: str, behind: list[SequenceBehind]) -> None:
    """Make each sequence's next value its column's max + increment."""
    if not behind:
        return
    calls = ", ".join(
        f"setval({sql_literal(item.sequence)}::regclass, {item.max_value}, true)" for item in behind
    )
    backend.tools.query(f"SELECT {calls}", database=database)
