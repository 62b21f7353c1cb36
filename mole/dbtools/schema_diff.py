"""Compare two schema snapshots (see `introspection`) by structure.

Each difference says what kind it is, where, what was expected and what was
found, so that a report, a JSON file and a migration writer can all use it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any
from typing import Iterable

CONSTRAINT_KINDS = {
    "p": "primary_key",
    "u": "unique",
    "f": "foreign_key",
    "c": "check",
    "x": "exclusion",
}
COLUMN_PROPERTIES = ("type", "nullable", "default", "identity", "generated")


@dataclass(frozen=True)
class Difference:
    kind: str
    table: str
    object: str = ""
    expected: Any = None
    actual: Any = None

    def describe(self) -> str:
        is_column = self.kind.startswith("column")
        where = f"{self.table}.{self.object}" if is_column else self.table
        subject = self.kind.replace("_", " ")
        if self.kind.endswith("_missing"):
            return f"{where}: {subject}: {self.described_object(self.expected)}"
        if self.kind.endswith("_extra"):
            return f"{where}: {subject} (not in the reference): {self.described_object(self.actual)}"
        return f"{where}: {subject} differs: expected {self.expected!r}, found {self.actual!r}"

    def described_object(self, name: Any) -> str:
        """Columns are named by `where`; constraints and indexes by their name and structure."""
        if self.kind.startswith(("table", "column")):
            return self.object or "table"
        return f"{name} {self.object}" if name else self.object

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[Difference]:
    """Every structural difference of `actual` from `expected`, table by table."""
    expected_tables = expected["tables"]
    actual_tables = actual["tables"]
    differences: list[Difference] = []
    for table in sorted(set(expected_tables) | set(actual_tables)):
        if table not in actual_tables:
            differences.append(Difference("table_missing", table))
        elif table not in expected_tables:
            differences.append(Difference("table_extra", table))
        else:
            differences.extend(compare_table(table, expected_tables[table], actual_tables[table]))
    return differences


def compare_table(table: str, expected: dict[str, Any], actual: dict[str, Any]) -> Iterable[Difference]:
    yield from compare_columns(table, expected["columns"], actual["columns"])
    yield from compare_constraints(table, expected["constraints"], actual["constraints"])
    yield from compare_indexes(table, expected["indexes"], actual["indexes"])


def compare_columns(table: str, expected: dict[str, Any], actual: dict[str, Any]) -> Iterable[Difference]:
    for column in expected:
        if column not in actual:
            yield Difference("column_missing", table, column, expected=expected[column]["type"])
    for column in actual:
        if column not in expected:
            yield Difference("column_extra", table, column, actual=actual[column]["type"])
    for column in expected:
        if column not in actual:
            continue
        for prop in COLUMN_PROPERTIES:
            want = expected[column].get(prop)
            have = actual[column].get(prop)
            if want != have:
                kind = "column_nullability" if prop == "nullable" else f"column_{prop}"
                yield Difference(kind, table, column, expected=want, actual=have)


def compare_constraints(table: str, expected: list[dict], actual: list[dict]) -> Iterable[Difference]:
    yield from compare_by_structure(
        table,
        expected,
        actual,
        key=lambda constraint: (constraint["type"], constraint["definition"]),
        kind=lambda constraint: CONSTRAINT_KINDS.get(constraint["type"], "constraint"),
    )


def compare_indexes(table: str, expected: list[dict], actual: list[dict]) -> Iterable[Difference]:
    yield from compare_by_structure(
        table, expected, actual, key=lambda index: index["definition"], kind=lambda index: "index"
    )


def compare_by_structure(table, expected, actual, *, key, kind) -> Iterable[Difference]:
    """Match objects by structure, never by name; duplicates count (two equal indexes are not one)."""
    for side, others, suffix in ((expected, actual, "missing"), (actual, expected, "extra")):
        unmatched = Counter(key(item) for item in others)
        for item in side:
            if unmatched[key(item)]:
                unmatched[key(item)] -= 1
            elif suffix == "missing":
                yield Difference(f"{kind(item)}_missing", table, item["definition"], expected=item["name"])
            else:
                yield Difference(f"{kind(item)}_extra", table, item["definition"], actual=item["name"])
