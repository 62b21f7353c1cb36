"""What can differ between two schemas: the kinds, as an enumeration, and one difference.

A difference's kind names its subject (a table, a column, a kind of constraint, an index) and its
change (missing, extra, altered, named differently). The kinds' values are the stable strings that
reports and JSON files carry (`column_missing`, `foreign_key_name`).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from enum import Enum
from typing import Any

from .model import Column
from .model import Constraint
from .model import ConstraintKind
from .model import Index


class Change(Enum):
    """How a schema object differs: missing, extra, altered or named differently."""

    MISSING = "missing"  # in the expected schema only
    EXTRA = "extra"  # in the actual schema only
    ALTERED = "altered"  # in both, with a property that differs
    NAMED = "name"  # in both with the same structure, under another name


class DifferenceKind(str, Enum):
    """Each member has `subject` ("table", "column", "index" or a ConstraintKind), `change` and,
    for an altered column, the `column_property` that differs. A kind equals its string value."""

    TABLE_MISSING = ("table_missing", "table", Change.MISSING)
    TABLE_EXTRA = ("table_extra", "table", Change.EXTRA)
    COLUMN_MISSING = ("column_missing", "column", Change.MISSING)
    COLUMN_EXTRA = ("column_extra", "column", Change.EXTRA)
    COLUMN_TYPE = ("column_type", "column", Change.ALTERED, "type")
    COLUMN_NULLABILITY = ("column_nullability", "column", Change.ALTERED, "nullable")
    COLUMN_DEFAULT = ("column_default", "column", Change.ALTERED, "default")
    COLUMN_IDENTITY = ("column_identity", "column", Change.ALTERED, "identity")
    COLUMN_GENERATED = ("column_generated", "column", Change.ALTERED, "generated")
    PRIMARY_KEY_MISSING = ("primary_key_missing", ConstraintKind.PRIMARY_KEY, Change.MISSING)
    PRIMARY_KEY_EXTRA = ("primary_key_extra", ConstraintKind.PRIMARY_KEY, Change.EXTRA)
    PRIMARY_KEY_NAME = ("primary_key_name", ConstraintKind.PRIMARY_KEY, Change.NAMED)
    UNIQUE_MISSING = ("unique_missing", ConstraintKind.UNIQUE, Change.MISSING)
    UNIQUE_EXTRA = ("unique_extra", ConstraintKind.UNIQUE, Change.EXTRA)
    UNIQUE_NAME = ("unique_name", ConstraintKind.UNIQUE, Change.NAMED)
    FOREIGN_KEY_MISSING = ("foreign_key_missing", ConstraintKind.FOREIGN_KEY, Change.MISSING)
    FOREIGN_KEY_EXTRA = ("foreign_key_extra", ConstraintKind.FOREIGN_KEY, Change.EXTRA)
    FOREIGN_KEY_NAME = ("foreign_key_name", ConstraintKind.FOREIGN_KEY, Change.NAMED)
    CHECK_MISSING = ("check_missing", ConstraintKind.CHECK, Change.MISSING)
    CHECK_EXTRA = ("check_extra", ConstraintKind.CHECK, Change.EXTRA)
    CHECK_NAME = ("check_name", ConstraintKind.CHECK, Change.NAMED)
    EXCLUSION_MISSING = ("exclusion_missing", ConstraintKind.EXCLUSION, Change.MISSING)
    EXCLUSION_EXTRA = ("exclusion_extra", ConstraintKind.EXCLUSION, Change.EXTRA)
    EXCLUSION_NAME = ("exclusion_name", ConstraintKind.EXCLUSION, Change.NAMED)
    INDEX_MISSING = ("index_missing", "index", Change.MISSING)
    INDEX_EXTRA = ("index_extra", "index", Change.EXTRA)
    INDEX_NAME = ("index_name", "index", Change.NAMED)

    def __new__(cls, value: str, subject: Any, change: Change, column_property: str = "") -> DifferenceKind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.subject = subject
        member.change = change
        member.column_property = column_property
        return member

    @classmethod
    def of(cls, subject: Any, change: Change) -> DifferenceKind:
        """The kind for a subject and a change: `of(ConstraintKind.UNIQUE, Change.EXTRA)`."""
        return next(kind for kind in cls if kind.subject == subject and kind.change is change)

    @property
    def is_constraint(self) -> bool:
        """True for the kinds about a constraint (primary key, unique, foreign key, check, exclusion)."""
        return isinstance(self.subject, ConstraintKind)

    @property
    def label(self) -> str:
        """`column nullability`, `foreign key missing`: the words of reports."""
        return self.value.replace("_", " ")


COLUMN_PROPERTY_KINDS = tuple(kind for kind in DifferenceKind if kind.column_property)
NULLABILITY = {True: "NULL allowed", False: "NOT NULL"}


@dataclass(frozen=True)
class Difference:
    """One difference of the actual schema from the expected one.

    `object` is the column's name for a column kind and the structure (`definition`) for a
    constraint or index. `expected` and `actual` hold what each side has: a column's type text or
    property value, a constraint's or index's name (None on the side that lacks it). `item` is the
    schema object itself (the expected side's when both have it), for planners; it is not part of
    the difference's identity or its JSON.
    """

    kind: DifferenceKind
    table: str
    object: str = ""
    expected: Any = None
    actual: Any = None
    item: Column | Constraint | Index | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """One line for a report, e.g. `data_collection_pose.note: column missing: note`."""
        kind = self.kind
        where = f"{self.table}.{self.object}" if kind.subject == "column" else self.table
        if kind.subject == "table":
            return f"{where}: {kind.label}" + (
                " (not in the reference)" if kind.change is Change.EXTRA else ""
            )
        if kind.change is Change.MISSING:
            return f"{where}: {kind.label}: {self.described_object(self.expected)}"
        if kind.change is Change.EXTRA:
            return f"{where}: {kind.label} (not in the reference): {self.described_object(self.actual)}"
        if kind.change is Change.NAMED:
            return (
                f"{where}: {kind.label} differs for {self.object}: "
                f"expected {self.expected!r}, found {self.actual!r}"
            )
        expected, actual = self.expected, self.actual
        if kind is DifferenceKind.COLUMN_NULLABILITY:
            expected, actual = NULLABILITY[expected], NULLABILITY[actual]
        return f"{where}: {kind.label} differs: expected {expected!r}, found {actual!r}"

    def described_object(self, name: Any) -> str:
        """Columns are named by `where`; constraints and indexes by their name and structure."""
        if self.kind.subject == "column":
            return self.object
        return f"{name} {self.object}" if name else self.object

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: kind as its string, the schema object left out."""
        return {
            "kind": self.kind.value,
            "table": self.table,
            "object": self.object,
            "expected": self.expected,
            "actual": self.actual,
        }
