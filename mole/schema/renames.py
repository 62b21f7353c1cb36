"""Likely renames hidden in a schema comparison.

A column missing and another extra with the same type in the same table, or a table missing
while another with the very same columns is extra, is far more often a rename than a drop and an
add. Proposing it as a rename keeps the data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from .differences import Difference
from .differences import DifferenceKind
from .model import Schema
from .model import Table


@dataclass(frozen=True)
class RenameCandidate:
    """A likely rename of a table or a column, old name to new."""

    kind: str  # "table" or "column"
    table: str  # the table as the actual schema names it
    old: str
    new: str

    def describe(self) -> str:
        """One line for a report."""
        if self.kind == "table":
            return f"table {self.old} looks like {self.new} renamed (same columns)"
        return f"{self.table}: column {self.old} looks like {self.new} renamed (same type)"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)


def column_signature(table: Table) -> tuple[tuple[str, str], ...]:
    """A table's columns and their types, sorted: equal signatures mean the same columns."""
    return tuple(sorted((name, column.type.text) for name, column in table.columns.items()))


def find_renames(expected: Schema, actual: Schema, differences: list[Difference]) -> list[RenameCandidate]:
    """Table renames first (a renamed table's columns are not column renames), then column renames."""
    return table_renames(expected, actual, differences) + column_renames(differences)


def table_renames(expected: Schema, actual: Schema, differences: list[Difference]) -> list[RenameCandidate]:
    """A missing table whose columns exactly match one extra table's: that table renamed."""
    missing = [d.table for d in differences if d.kind is DifferenceKind.TABLE_MISSING]
    extra = [d.table for d in differences if d.kind is DifferenceKind.TABLE_EXTRA]
    found = []
    for new in missing:
        signature = column_signature(expected.tables[new])
        matches = [old for old in extra if column_signature(actual.tables[old]) == signature]
        if len(matches) == 1:
            extra.remove(matches[0])
            found.append(RenameCandidate("table", matches[0], matches[0], new))
    return found


def column_renames(differences: list[Difference]) -> list[RenameCandidate]:
    """Pair a missing and an extra column of one table only when their type makes it unambiguous."""
    missing: dict[tuple[str, str], list[str]] = defaultdict(list)
    extra: dict[tuple[str, str], list[str]] = defaultdict(list)
    for difference in differences:
        if difference.kind is DifferenceKind.COLUMN_MISSING:
            missing[(difference.table, difference.expected)].append(difference.object)
        elif difference.kind is DifferenceKind.COLUMN_EXTRA:
            extra[(difference.table, difference.actual)].append(difference.object)
    found = []
    for (table, _type), new_columns in missing.items():
        old_columns = extra.get((table, _type), [])
        if len(new_columns) == 1 and len(old_columns) == 1:
            found.append(RenameCandidate("column", table, old_columns[0], new_columns[0]))
    return found
