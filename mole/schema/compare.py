"""Compare two schemas by structure, never by name (after Alembic's `autogenerate/compare`).

`compare` finds what a migration would have to change; `compare_names` finds constraints and
indexes equal in structure but named differently, which are not structural differences (Django
versions name things differently) but matter to later migrations that find objects by name.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable
from typing import Hashable
from typing import Iterable
from typing import Sequence
from typing import TypeVar

from .differences import COLUMN_PROPERTY_KINDS
from .differences import Change
from .differences import Difference
from .differences import DifferenceKind
from .model import Column
from .model import Constraint
from .model import Index
from .model import Schema
from .model import Table

Item = TypeVar("Item", Constraint, Index)


def compare(expected: Schema, actual: Schema) -> list[Difference]:
    """Every structural difference of `actual` from `expected`, table by table (sorted by name)."""
    differences: list[Difference] = []
    for name in sorted(set(expected.tables) | set(actual.tables)):
        if name not in actual.tables:
            differences.append(Difference(DifferenceKind.TABLE_MISSING, name))
        elif name not in expected.tables:
            differences.append(Difference(DifferenceKind.TABLE_EXTRA, name))
        else:
            differences.extend(compare_table(expected.tables[name], actual.tables[name]))
    return differences


def compare_table(expected: Table, actual: Table) -> Iterable[Difference]:
    """The differences of one table present on both sides: columns, constraints, indexes."""
    yield from compare_columns(expected, actual)
    yield from compare_by_structure(
        expected.name, expected.constraints, actual.constraints, constraint_subject
    )
    yield from compare_by_structure(expected.name, expected.indexes, actual.indexes, index_subject)


def column_property(column: Column, name: str):
    """A column's property as differences carry it (an identity by its words, a type by its text)."""
    if name == "type":
        return column.type.text
    if name == "identity":
        return column.identity.value if column.identity else None
    return getattr(column, name)


def compare_columns(expected: Table, actual: Table) -> Iterable[Difference]:
    """Columns missing, extra, or differing in a property (type, nullability, default, identity,
    generated), in the expected table's column order."""
    table = expected.name
    for name, column in expected.columns.items():
        if name not in actual.columns:
            yield Difference(
                DifferenceKind.COLUMN_MISSING, table, name, expected=column.type.text, item=column
            )
    for name, column in actual.columns.items():
        if name not in expected.columns:
            yield Difference(DifferenceKind.COLUMN_EXTRA, table, name, actual=column.type.text, item=column)
    for name, want in expected.columns.items():
        have = actual.columns.get(name)
        if have is None:
            continue
        for kind in COLUMN_PROPERTY_KINDS:
            wanted, found = (
                column_property(want, kind.column_property),
                column_property(have, kind.column_property),
            )
            if wanted != found:
                yield Difference(kind, table, name, expected=wanted, actual=found, item=want)


def constraint_subject(item: Constraint):
    """The subject a constraint's differences name: its kind."""
    return item.kind


def index_subject(item: Index):
    """The subject an index's differences name."""
    return "index"


def compare_by_structure(
    table: str, expected: Sequence[Item], actual: Sequence[Item], subject: Callable[[Item], object]
) -> Iterable[Difference]:
    """Match objects by structure; duplicates count (two equal indexes are not one)."""
    for side, others, change in ((expected, actual, Change.MISSING), (actual, expected, Change.EXTRA)):
        unmatched: Counter[Hashable] = Counter(item.structure for item in others)
        for item in side:
            if unmatched[item.structure]:
                unmatched[item.structure] -= 1
                continue
            kind = DifferenceKind.of(subject(item), change)
            if change is Change.MISSING:
                yield Difference(kind, table, item.definition, expected=item.name, item=item)
            else:
                yield Difference(kind, table, item.definition, actual=item.name, item=item)


def compare_names(expected: Schema, actual: Schema) -> list[Difference]:
    """Constraints and indexes equal in structure but named differently (`<subject>_name` kinds).

    Each expected object takes a same-structure object of the actual schema with its own name when
    there is one, else the first by name; `expected` and `actual` are the two names.
    """
    differences: list[Difference] = []
    for name in sorted(set(expected.tables) & set(actual.tables)):
        want, have = expected.tables[name], actual.tables[name]
        differences += names_differing(name, want.constraints, have.constraints, constraint_subject)
        differences += names_differing(name, want.indexes, have.indexes, index_subject)
    return differences


def names_differing(
    table: str, wanted: Sequence[Item], found: Sequence[Item], subject: Callable[[Item], object]
) -> list[Difference]:
    """Objects of one table equal in structure but named differently (see `compare_names`)."""
    found_names: dict[Hashable, list[str]] = {}
    for item in found:
        found_names.setdefault(item.structure, []).append(item.name)
    differences = []
    for item in sorted(wanted, key=lambda item: item.name):
        names = sorted(found_names.get(item.structure, []))
        if item.name in names:
            found_names[item.structure].remove(item.name)
            continue
        if not names:
            continue
        found_names[item.structure].remove(names[0])
        kind = DifferenceKind.of(subject(item), Change.NAMED)
        differences.append(Difference(kind, table, item.definition, item.name, names[0], item=item))
    return differences
