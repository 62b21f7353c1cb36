"""Likely renames hidden in a schema comparison.

A column dropped and another added with the same type in the same table, or a
table missing while another with the very same columns is extra, is far more
often a rename than a drop and an add. Proposing it as a rename keeps the data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from .schema_diff import Difference


@dataclass(frozen=True)
class RenameCandidate:
    kind: str  # "table" or "column"
    table: str  # the table as it is named in the actual schema
    old: str
    new: str

    def describe(self) -> str:
        if self.kind == "table":
            return f"table {self.old} looks like {self.new} renamed (same columns)"
        return f"{self.table}: column {self.old} looks like {self.new} renamed (same type)"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def column_signature(table: dict[str, Any]) -> tuple:
    return tuple(sorted((name, props["type"]) for name, props in table["columns"].items()))


def find_renames(
    expected: dict[str, Any], actual: dict[str, Any], differences: list[Difference]
) -> list[RenameCandidate]:
    candidates = list(table_renames(expected, actual, differences))
    candidates += column_renames(expected, actual, differences)
    return candidates


def table_renames(expected, actual, differences) -> list[RenameCandidate]:
    missing = [d.table for d in differences if d.kind == "table_missing"]
    extra = [d.table for d in differences if d.kind == "table_extra"]
    found = []
    for new in missing:
        signature = column_signature(expected["tables"][new])
        matches = [old for old in extra if column_signature(actual["tables"][old]) == signature]
        if len(matches) == 1:
            extra.remove(matches[0])
            found.append(RenameCandidate("table", matches[0], matches[0], new))
    return found


def column_renames(expected, actual, differences) -> list[RenameCandidate]:
    """Pair a missing and an extra column of one table only when their type makes it unambiguous."""
    missing: dict[tuple[str, str], list[str]] = defaultdict(list)
    extra: dict[tuple[str, str], list[str]] = defaultdict(list)
    for difference in differences:
        if difference.kind == "column_missing":
            column_type = expected["tables"][difference.table]["columns"][difference.object]["type"]
            missing[(difference.table, column_type)].append(difference.object)
        elif difference.kind == "column_extra":
            column_type = actual["tables"][difference.table]["columns"][difference.object]["type"]
            extra[(difference.table, column_type)].append(difference.object)
    found = []
    for key, new_columns in missing.items():
        old_columns = extra.get(key, [])
        if len(new_columns) == 1 and len(old_columns) == 1:
            found.append(RenameCandidate("column", key[0], old_columns[0], new_columns[0]))
    return found
