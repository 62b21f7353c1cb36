"""Plan the operations that align a legacy schema with the reference (after Django's autodetector).

The order matters, and each rule is applied where the plan is built:
- renames come first, so that every later operation uses today's names;
- extra constraints (foreign keys first) and indexes are dropped before anything they could block;
- extra tables and columns that hold data are moved into the `legacy` schema, never dropped;
- columns are added and converted before NOT NULL is set on them;
- constraints are added last (foreign keys after the keys they reference), and names are aligned
  once the structure is right.
Operations whose success depends on the data carry a review note with the numbers that matter,
measured on the legacy database through `count`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from .compare import compare
from .compare import compare_names
from .custom_migration import LEGACY_SCHEMA
from .differences import Change
from .differences import Difference
from .differences import DifferenceKind as Kind
from .django_drift import plural_of
from .model import Column
from .model import Constraint
from .model import ConstraintKind
from .model import Schema
from .model import Table
from .operations import AddColumn
from .operations import AddConstraint
from .operations import AlterColumnType
from .operations import CreateIndex
from .operations import CreateTable
from .operations import DropColumn
from .operations import DropConstraint
from .operations import DropIndex
from .operations import DropNotNull
from .operations import IdentityToSerial
from .operations import KeepColumnAside
from .operations import MoveTableAside
from .operations import Operation
from .operations import RenameColumn
from .operations import RenameConstraint
from .operations import RenameIndex
from .operations import RenameTable
from .operations import SerialToIdentity
from .operations import SetDefault
from .operations import SetNotNull
from .operations import WriteByHand
from .quoting import identifier as q
from .quoting import literal
from .renames import RenameCandidate
from .renames import find_renames
from .rendered_names import as_rendered

Count = Callable[[str], int]  # runs a counting query (one session) on the legacy database
# Whether a value's text converts to a type: PostgreSQL 16's pg_input_is_valid, for 15 too. A
# session's own function (pg_temp), so the database keeps nothing; `type_text` is the reference's.
CONVERTIBLE_FUNCTION = """CREATE FUNCTION pg_temp.mole_convertible(value text, type_text text) RETURNS boolean
LANGUAGE plpgsql AS $convertible$
BEGIN
    EXECUTE format('SELECT %L::%s', value, type_text);
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END $convertible$;"""


def rendered_token(name: str) -> re.Pattern[str]:
    """`name` as a whole identifier inside a catalog rendering (not part of a longer name)."""
    return re.compile(r'(?<![\w"$])' + re.escape(as_rendered(name)) + r'(?![\w"$])')


def rendered_columns(columns: tuple[str, ...]) -> str:
    """`a, "timestamp"`: a column list as the catalog renders it."""
    return ", ".join(as_rendered(column) for column in columns)


def renamed_in(columns: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    return tuple(new if column == old else column for column in columns)


def renamed_table(table: Table, old: str, new: str) -> Table:
    """`table` with column `old` called `new`, in its columns, keys and definitions (a foreign
    key's own columns here; what it references is `retargeted`)."""
    token = rendered_token(old)

    def renamed(item):
        columns = renamed_in(item.columns, old, new)
        if isinstance(item, Constraint) and item.kind is ConstraintKind.FOREIGN_KEY:
            head = f"FOREIGN KEY ({rendered_columns(item.columns)})"
            definition = item.definition.replace(head, f"FOREIGN KEY ({rendered_columns(columns)})", 1)
        else:
            definition = token.sub(lambda _: as_rendered(new), item.definition)
        return replace(item, columns=columns, definition=definition)

    columns = {
        (new if name == old else name): (replace(c, name=new) if name == old else c)
        for name, c in table.columns.items()
    }
    return replace(table, columns=columns, constraints=tuple(renamed(c) for c in table.constraints),
                   indexes=tuple(renamed(i) for i in table.indexes))


def retargeted(table: Table, target: str, new_target: str, old: str = "", new: str = "") -> Table:
    """`table` with its foreign keys to table `target` pointing at `new_target`, and at column
    `new` where they referenced `old`."""

    def moved(c: Constraint) -> Constraint:
        if c.kind is not ConstraintKind.FOREIGN_KEY or c.referenced_table != target:
            return c
        columns = renamed_in(c.referenced_columns, old, new) if old else c.referenced_columns
        before = f"REFERENCES {as_rendered(target)}({rendered_columns(c.referenced_columns)})"
        after = f"REFERENCES {as_rendered(new_target)}({rendered_columns(columns)})"
        return replace(c, referenced_table=new_target, referenced_columns=columns,
                       definition=c.definition.replace(before, after, 1))

    return replace(table, constraints=tuple(moved(c) for c in table.constraints))


def with_renames(actual: Schema, renames: list[RenameCandidate]) -> Schema:
    """The legacy schema as it will look once the proposed renames ran."""
    tables = dict(actual.tables)
    for rename in renames:
        if rename.kind == "table":
            tables[rename.new] = replace(tables.pop(rename.old), name=rename.new)
            tables = {name: retargeted(t, rename.old, rename.new) for name, t in tables.items()}
        else:
            tables[rename.table] = renamed_table(tables[rename.table], rename.old, rename.new)
            tables = {name: retargeted(t, rename.table, rename.table, rename.old, rename.new)
                      for name, t in tables.items()}
    return Schema(actual.name, tables)


class AlignmentPlanner:
    """Plans the operations from `actual` (the legacy schema) to `expected` (the reference)."""

    def __init__(self, expected: Schema, actual: Schema, count: Count) -> None:
        self.expected = expected
        self.count = count
        self.renames = find_renames(expected, actual, compare(expected, actual))
        self.aligned = with_renames(actual, self.renames)
        self.differences = compare(expected, self.aligned)
        self.name_differences = compare_names(expected, self.aligned)
        self.original_table = {r.new: r.old for r in self.renames if r.kind == "table"}
        self.original_column = {(r.table, r.new): r.old for r in self.renames if r.kind == "column"}
        self.created = {d.table for d in self.of_kind(Kind.TABLE_MISSING)}

    def of_kind(self, *kinds: Kind) -> list[Difference]:
        """The differences (after renames) of the given kinds."""
        return [d for d in self.differences if d.kind in kinds]

    def of_change(self, change: Change) -> list[Difference]:
        """The constraint differences with this change (missing or extra)."""
        return [d for d in self.differences if d.kind.is_constraint and d.kind.change is change]

    def legacy_name(self, table: str, column: str | None = None) -> str:
        """How the legacy database (where the counts run) names a table or column, quoted."""
        if column is None:
            return q(self.original_table.get(table, table))
        return q(self.original_column.get((table, column), column))

    def plan(self) -> list[Operation]:
        """The operations, in the order the module docstring gives and explains."""
        operations: list[Operation] = [RenameTable(r.old, r.new) for r in self.renames if r.kind == "table"]
        operations += [RenameColumn(r.table, r.old, r.new) for r in self.renames if r.kind == "column"]
        # Foreign keys go first: a key they reference cannot be dropped under them.
        extra = sorted(self.of_change(Change.EXTRA), key=lambda d: d.kind is not Kind.FOREIGN_KEY_EXTRA)
        operations += [DropConstraint(d.table, d.item) for d in extra]
        operations += [DropIndex(d.table, d.item) for d in self.of_kind(Kind.INDEX_EXTRA)]
        operations += [self.move_table(d.table) for d in self.of_kind(Kind.TABLE_EXTRA)]
        operations += [self.move_column(d.table, d.item) for d in self.of_kind(Kind.COLUMN_EXTRA)]
        operations += [CreateTable(self.expected.tables[table]) for table in sorted(self.created)]
        operations += [self.add_column(d.table, d.item) for d in self.of_kind(Kind.COLUMN_MISSING)]
        operations += [self.change_type(d) for d in self.of_kind(Kind.COLUMN_TYPE)]
        identity_changes = self.of_kind(Kind.COLUMN_IDENTITY)
        operations += [self.change_identity(d) for d in identity_changes]
        # An identity change rewrites the default too (Alembic's comparators stop each other so).
        identity_columns = {(d.table, d.object) for d in identity_changes}
        operations += [
            SetDefault(d.table, d.object, d.expected, d.actual)
            for d in self.of_kind(Kind.COLUMN_DEFAULT)
            if (d.table, d.object) not in identity_columns
        ]
        operations += [self.change_nullability(d) for d in self.of_kind(Kind.COLUMN_NULLABILITY)]
        operations += [self.write_by_hand(d) for d in self.of_kind(Kind.COLUMN_GENERATED)]
        missing = [(d.table, d.item) for d in self.of_change(Change.MISSING)]
        # A created table's foreign keys wait until every table they may reference exists.
        missing += [
            (t, c)
            for t in sorted(self.created)
            for c in self.expected.tables[t].of_kind(ConstraintKind.FOREIGN_KEY)
        ]
        missing.sort(key=lambda pair: pair[1].kind is ConstraintKind.FOREIGN_KEY)
        operations += [CreateIndex(d.table, d.item) for d in self.of_kind(Kind.INDEX_MISSING)]
        operations += [self.add_constraint(table, constraint) for table, constraint in missing]
        operations += [self.rename_object(d) for d in self.name_differences]
        return operations

    def move_table(self, table: str) -> Operation:
        """An extra table: moved into the legacy schema with its rows (never dropped)."""
        rows = self.count(f"SELECT count(*) FROM {self.legacy_name(table)}")
        kept = "it is" if rows == 1 else "they are"
        review = (f"{table} holds {counted(rows, 'row')}; {kept} kept in {LEGACY_SCHEMA}.{table}, "
                  "outside Mole's schema")
        return MoveTableAside(table, rows, review if rows else "")

    def move_column(self, table: str, column: Column) -> Operation:
        """An extra column: dropped when it holds no values, else kept aside by key."""
        values = self.count(
            f"SELECT count({self.legacy_name(table, column.name)}) FROM {self.legacy_name(table)}"
        )
        if not values:
            return DropColumn(table, column)
        primary = self.aligned.tables[table].primary_key
        key = primary.columns if primary else ("ctid",)
        operation = KeepColumnAside(table, column, key, values)
        return operation.with_review(
            f"{counted(values, 'non-NULL value')} in {table}.{column.name} "
            f"{'is' if values == 1 else 'are'} kept in "
            f"{LEGACY_SCHEMA}.{operation.kept}, "
            f"keyed by {', '.join(key)}"
        )

    def add_column(self, table: str, column: Column) -> Operation:
        """A missing column; NOT NULL without a default over existing rows needs a value (review)."""
        rows = 0
        if not column.nullable and not column.default and not column.identity:
            rows = self.count(f"SELECT count(*) FROM {self.legacy_name(table)}")
        if not rows:
            return AddColumn(table, column)
        return AddColumn(table, column, fill=True).with_review(
            f"{table} has {counted(rows, 'row')} and the new NOT NULL column {column.name} has no default: "
            "replace the NULL marked REVIEW in the SQL with the value to fill in"
        )

    def change_type(self, difference: Difference) -> Operation:
        """A type change, reviewed when values exist that the new type rejects (counted)."""
        table, column, want = difference.table, difference.object, difference.expected
        source = self.legacy_name(table, column)
        invalid = self.count(
            f"{CONVERTIBLE_FUNCTION} SELECT count(*) FROM {self.legacy_name(table)} "
            f"WHERE {source} IS NOT NULL AND NOT pg_temp.mole_convertible({source}::text, {literal(want)})"
        )
        operation = AlterColumnType(table, column, want, difference.actual)
        note = (f"{counted(invalid, 'value')} of {table}.{column} cannot be converted to {want}: "
                "fix them or write a USING expression")
        return operation.with_review(note) if invalid else operation

    def change_identity(self, difference: Difference) -> Operation:
        """Serial to identity (Django 4.1+ keys), or back."""
        if difference.expected and not difference.actual:
            return SerialToIdentity(difference.table, difference.object)
        return IdentityToSerial(difference.table, difference.object)

    def change_nullability(self, difference: Difference) -> Operation:
        """Allow NULL, or forbid it (with a reviewed fill when NULLs exist)."""
        table, column = difference.table, difference.object
        if difference.expected:
            return DropNotNull(table, column)
        nulls = self.count(
            f"SELECT count(*) FROM {self.legacy_name(table)} WHERE {self.legacy_name(table, column)} IS NULL"
        )
        if not nulls:
            return SetNotNull(table, column)
        return SetNotNull(table, column, fill=True).with_review(
            f"{counted(nulls, 'row')} of {table} {'has' if nulls == 1 else 'have'} NULL in {column}: replace "
            "the NULL marked REVIEW in the SQL with the value to fill in before SET NOT NULL"
        )

    def write_by_hand(self, difference: Difference) -> Operation:
        """A generated column that differs: a step that fails until a person writes it."""
        message = f"{difference.table}.{difference.object}: generated column differs; write this step by hand"
        return WriteByHand(message, review=message)

    def add_constraint(self, table: str, constraint: Constraint) -> Operation:
        """A missing constraint, reviewed when legacy rows violate it (counted)."""
        violations = self.violations(table, constraint)
        operation = AddConstraint(table, constraint)
        violate = "violates" if violations == 1 else "violate"
        note = (f"{counted(violations, 'row')} of {table} {violate} {constraint.definition}: "
                "fix the data before this step")
        return operation.with_review(note) if violations else operation

    def violations(self, table: str, constraint: Constraint) -> int:
        """Rows the new constraint would reject, counted on the legacy data (0 for a table created here)."""
        if table in self.created or not self.has_columns(table, constraint.columns):
            # Rows of a table made here, or values of a column added here (NULL, or what the
            # review fills in): nothing in the legacy data to count.
            return 0
        source = self.legacy_name(table)
        columns = ", ".join(self.legacy_name(table, c) for c in constraint.columns)
        if constraint.kind in (ConstraintKind.PRIMARY_KEY, ConstraintKind.UNIQUE):
            return self.count(
                f"SELECT count(*) FROM (SELECT 1 FROM {source} GROUP BY {columns} "
                "HAVING count(*) > 1) AS duplicates"
            )
        if constraint.kind is ConstraintKind.CHECK:
            return self.count(
                f"SELECT count(*) FROM {source} WHERE NOT {constraint.definition.removeprefix('CHECK ')}"
            )
        if constraint.kind is ConstraintKind.FOREIGN_KEY and constraint.referenced_table:
            local = [f"t.{self.legacy_name(table, c)}" for c in constraint.columns]
            referenced = self.legacy_name(constraint.referenced_table)
            # The referenced columns are counted under today's names: a referenced table's
            # renamed key columns would need the renames applied first. Compared as text: this
            # migration may change either side's type first (varchar keys to bigint, say).
            match = " AND ".join(
                f"r.{q(ref)}::text = {col}::text" for ref, col in zip(constraint.referenced_columns, local)
            )
            present = " AND ".join(f"{col} IS NOT NULL" for col in local)
            if not self.has_columns(constraint.referenced_table, constraint.referenced_columns):
                # The referenced rows or key columns are made by this migration: no value refers yet.
                return self.count(f"SELECT count(*) FROM {source} AS t WHERE {present}")
            return self.count(
                f"SELECT count(*) FROM {source} AS t WHERE {present} AND NOT EXISTS "
                f"(SELECT 1 FROM {referenced} AS r WHERE {match})"
            )
        return 0

    def has_columns(self, table: str, columns: tuple[str, ...]) -> bool:
        """Whether the legacy table (under today's names, renames applied) has all `columns`:
        False for a table or column this migration makes."""
        existing = self.aligned.tables.get(table)
        return table not in self.created and existing is not None and all(
            column in existing.columns for column in columns)

    def rename_object(self, difference: Difference) -> Operation:
        """A constraint or index named by another Django version: renamed."""
        table, want, have = difference.table, difference.expected, difference.actual
        if difference.kind is Kind.INDEX_NAME:
            return RenameIndex(table, have, want)
        return RenameConstraint(table, have, want)


def counted(count: int, noun: str) -> str:
    """`1 row`, `3 rows`: a review's count with its noun."""
    return f"{count} {plural_of(count, noun)}"
