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
NULLABILITY = {True: "NULL allowed", False: "NOT NULL"}


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
        if self.kind.startswith("table"):
            return f"{where}: {subject}" + (" (not in the reference)" if self.kind.endswith("_extra") else "")
        if self.kind.endswith("_missing"):
            return f"{where}: {subject}: {self.described_object(self.expected)}"
        if self.kind.endswith("_extra"):
            return f"{where}: {subject} (not in the reference): {self.described_object(self.actual)}"
        if self.kind.endswith("_name"):
            return (f"{where}: {subject} differs for {self.object}: "
                    f"expected {self.expected!r}, found {self.actual!r}")
        expected, actual = self.expected, self.actual
        if self.kind == "column_nullability":
            expected, actual = (NULLABILITY[value] for value in (expected, actual))
        return f"{where}: {subject} differs: expected {expected!r}, found {actual!r}"

    def described_object(self, name: Any) -> str:
        """Columns are named by `where`; constraints and indexes by their name and structure."""
        if self.kind.startswith("column"):
            return self.object
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


def compare_names(expected: dict[str, Any], actual: dict[str, Any]) -> list[Difference]:
    """Constraints and indexes equal in structure but named differently (`<kind>_name`).

    Not a structural difference: Django versions name things differently. They
    are reported so that a migration can rename them, because later migrations
    that remove an index or constraint find it by name.
    """
    differences: list[Difference] = []
    for table in sorted(set(expected["tables"]) & set(actual["tables"])):
        want, have = expected["tables"][table], actual["tables"][table]
        pairs = (
            (want["constraints"], have["constraints"],
             lambda item: (item["type"], item["definition"]),
             lambda item: CONSTRAINT_KINDS.get(item["type"], "constraint")),
            (want["indexes"], have["indexes"], lambda item: item["definition"], lambda item: "index"),
        )
        for wanted, found, key, kind in pairs:
            found_names: dict[Any, list[str]] = {}
            for item in found:
                found_names.setdefault(key(item), []).append(item["name"])
            for item in sorted(wanted, key=lambda item: item["name"]):
                names = sorted(found_names.get(key(item), []))
                if not names or item["name"] in names:
                    if item["name"] in names:
                        found_names[key(item)].remove(item["name"])
                    continue
                found_names[key(item)].remove(names[0])
                differences.append(
                    Difference(f"{kind(item)}_name", table, item["definition"], item["name"], names[0])
                )
    return differences


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
