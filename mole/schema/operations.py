"""Schema operations that know their own SQL and their own reverse (Alembic's `reverse_into`).

The planner emits these; the writer turns each into a `Step` of forward and reverse SQL, so no
reverse is written by hand twice. Every name is quoted by `quoting`; type texts and definitions
come from PostgreSQL's own catalog renderings (`format_type`, `pg_get_constraintdef`,
`pg_get_indexdef`), which are valid SQL as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace

from .custom_migration import LEGACY_SCHEMA
from .model import Column
from .model import Constraint
from .model import Index
from .model import Table
from .quoting import column_list
from .quoting import identifier as q
from .quoting import literal
from .quoting import qualified

FILL_PLACEHOLDER = "NULL /* REVIEW: the value for rows that have none */"
MAX_IDENTIFIER = 63  # NAMEDATALEN - 1 (PostgreSQL docs, 4.1.1)


class Operation:
    """One change. `description` is a sentence for the draft; `review` what a person must check."""

    review: str = ""

    @property
    def description(self) -> str:
        """One sentence saying what the operation does and why, for the draft's reader."""
        return ""

    def sql(self) -> str:
        """The SQL that makes the change (one or more statements separated by `; `)."""
        raise NotImplementedError

    def reverse(self) -> Operation:
        """The operation that undoes this one (its `sql` is the migration's reverse step)."""
        raise NotImplementedError

    def with_review(self, review: str) -> Operation:
        """The same operation carrying a review note (what a person must check, with the numbers)."""
        return replace(self, review=review)


def alter_table(table: str) -> str:
    """`ALTER TABLE "table"`."""
    return f"ALTER TABLE {q(table)}"


def alter_column(table: str, column: str) -> str:
    """`ALTER TABLE "table" ALTER COLUMN "column"`."""
    return f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)}"


@dataclass(frozen=True)
class RenameTable(Operation):
    """Rename a table (a likely rename, proposed instead of a drop and an add)."""

    old: str
    new: str
    review: str = ""

    @property
    def description(self) -> str:
        return f"Rename table {self.old} to {self.new} (same columns)"

    def sql(self) -> str:
        return f"{alter_table(self.old)} RENAME TO {q(self.new)}"

    def reverse(self) -> Operation:
        return RenameTable(self.new, self.old)


@dataclass(frozen=True)
class RenameColumn(Operation):
    """Rename a column of a table (same type: a likely rename)."""

    table: str
    old: str
    new: str
    review: str = ""

    @property
    def description(self) -> str:
        return f"Rename column {self.table}.{self.old} to {self.new} (same type)"

    def sql(self) -> str:
        return f"{alter_table(self.table)} RENAME COLUMN {q(self.old)} TO {q(self.new)}"

    def reverse(self) -> Operation:
        return RenameColumn(self.table, self.new, self.old)


@dataclass(frozen=True)
class AddConstraint(Operation):
    """Add a constraint as the catalog defines it."""

    table: str
    constraint: Constraint
    review: str = ""

    @property
    def description(self) -> str:
        return f"Add {self.constraint.kind.label} {self.constraint.name} on {self.table} (missing)"

    def sql(self) -> str:
        return (
            f"{alter_table(self.table)} ADD CONSTRAINT {q(self.constraint.name)} {self.constraint.definition}"
        )

    def reverse(self) -> Operation:
        return DropConstraint(self.table, self.constraint)


@dataclass(frozen=True)
class DropConstraint(Operation):
    """Drop a constraint today's schema does not have."""

    table: str
    constraint: Constraint
    review: str = ""

    @property
    def description(self) -> str:
        c = self.constraint
        return f"Drop {c.kind.label} {c.name} on {self.table} (not in today's schema): {c.definition}"

    def sql(self) -> str:
        return f"{alter_table(self.table)} DROP CONSTRAINT {q(self.constraint.name)}"

    def reverse(self) -> Operation:
        return AddConstraint(self.table, self.constraint)


@dataclass(frozen=True)
class CreateIndex(Operation):
    """Create an index as the catalog defines it (`UNIQUE` kept)."""

    table: str
    index: Index
    review: str = ""

    @property
    def description(self) -> str:
        return f"Create index {self.index.name} on {self.table} (missing)"

    def sql(self) -> str:
        body = self.index.definition
        unique = "UNIQUE " if body.startswith("UNIQUE ") else ""
        return f"CREATE {unique}INDEX {q(self.index.name)} ON {q(self.table)} {body.removeprefix('UNIQUE ')}"

    def reverse(self) -> Operation:
        return DropIndex(self.table, self.index)


@dataclass(frozen=True)
class DropIndex(Operation):
    """Drop an index today's schema does not have."""

    table: str
    index: Index
    review: str = ""

    @property
    def description(self) -> str:
        return f"Drop index {self.index.name} on {self.table} (not in today's schema)"

    def sql(self) -> str:
        return f"DROP INDEX {q(self.index.name)}"

    def reverse(self) -> Operation:
        return CreateIndex(self.table, self.index)


@dataclass(frozen=True)
class RenameConstraint(Operation):
    """Give a constraint the name today's Django gives it."""

    table: str
    old: str
    new: str
    review: str = ""

    @property
    def description(self) -> str:
        return f"Rename {self.old} to {self.new} on {self.table} (named by another Django version)"

    def sql(self) -> str:
        return f"{alter_table(self.table)} RENAME CONSTRAINT {q(self.old)} TO {q(self.new)}"

    def reverse(self) -> Operation:
        return RenameConstraint(self.table, self.new, self.old)


@dataclass(frozen=True)
class RenameIndex(Operation):
    """Give an index the name today's Django gives it."""

    table: str
    old: str
    new: str
    review: str = ""

    @property
    def description(self) -> str:
        return f"Rename {self.old} to {self.new} on {self.table} (named by another Django version)"

    def sql(self) -> str:
        return f"ALTER INDEX {q(self.old)} RENAME TO {q(self.new)}"

    def reverse(self) -> Operation:
        return RenameIndex(self.table, self.new, self.old)


@dataclass(frozen=True)
class MoveTableAside(Operation):
    """Keep a table Mole no longer has in the legacy schema, rows and all."""

    table: str
    rows: int = 0
    review: str = ""

    @property
    def description(self) -> str:
        return (
            f"Move table {self.table} ({self.rows} rows) into the {LEGACY_SCHEMA} schema: "
            "not in today's models"
        )

    def sql(self) -> str:
        move = f"{alter_table(self.table)} SET SCHEMA {LEGACY_SCHEMA}"
        return f"CREATE SCHEMA IF NOT EXISTS {LEGACY_SCHEMA}; {move}"

    def reverse(self) -> Operation:
        return RawSQL(
            f"Move table {self.table} back", f"ALTER TABLE {LEGACY_SCHEMA}.{q(self.table)} SET SCHEMA public"
        )


def column_definition(column: Column, *, nullable: bool | None = None) -> str:
    """`"name" type [GENERATED ... AS IDENTITY | DEFAULT ...] [NOT NULL]` (a serial's default is
    left to the identity or sequence steps)."""
    text = f"{q(column.name)} {column.type.text}"
    if column.identity:
        text += f" GENERATED {column.identity.value.upper()} AS IDENTITY"
    elif column.default and not column.serial:
        text += f" DEFAULT {column.default}"
    if not (column.nullable if nullable is None else nullable):
        text += " NOT NULL"
    return text


@dataclass(frozen=True)
class AddColumn(Operation):
    """Add a column; a NOT NULL column without a default over existing rows gets a fill to review."""

    table: str
    column: Column
    fill: bool = False
    review: str = ""

    @property
    def description(self) -> str:
        return f"Add column {self.table}.{self.column.name} {self.column.type.text} (missing)"

    def sql(self) -> str:
        text = f"{alter_table(self.table)} ADD COLUMN {column_definition(self.column, nullable=True)}"
        if self.fill:
            text += f"; UPDATE {q(self.table)} SET {q(self.column.name)} = {FILL_PLACEHOLDER}"
        if not self.column.nullable:
            text += f"; {alter_column(self.table, self.column.name)} SET NOT NULL"
        return text

    def reverse(self) -> Operation:
        return DropColumn(self.table, self.column)


@dataclass(frozen=True)
class DropColumn(Operation):
    """Drop a column that holds no values (one that does is kept aside: KeepColumnAside)."""

    table: str
    column: Column
    review: str = ""

    @property
    def description(self) -> str:
        return f"Drop column {self.table}.{self.column.name}: not in today's models, and it holds no values"

    def sql(self) -> str:
        return f"{alter_table(self.table)} DROP COLUMN {q(self.column.name)}"

    def reverse(self) -> Operation:
        restore = (
            "" if self.column.nullable else f"; {alter_column(self.table, self.column.name)} SET NOT NULL"
        )
        return RawSQL(
            f"Add column {self.table}.{self.column.name} back",
            f"{alter_table(self.table)} ADD COLUMN {q(self.column.name)} {self.column.type.text}{restore}",
        )


def aside_table(table: str, column: str) -> str:
    """The quoted name of the legacy-schema table that keeps a dropped column's values."""
    return q(f"{table}__{column}"[:MAX_IDENTIFIER])


@dataclass(frozen=True)
class KeepColumnAside(Operation):
    """Move a column's values, with the row keys, into a table of the legacy schema, then drop it."""

    table: str
    column: Column
    key: tuple[str, ...]
    values: int = 0
    review: str = ""

    @property
    def kept(self) -> str:
        """Where the values go: the quoted table name inside the legacy schema."""
        return aside_table(self.table, self.column.name)

    @property
    def description(self) -> str:
        return (
            f"Move column {self.table}.{self.column.name} ({self.values} values) into "
            f"{LEGACY_SCHEMA}.{self.kept}: not in today's models"
        )

    def sql(self) -> str:
        kept, keys = f"{LEGACY_SCHEMA}.{self.kept}", column_list(self.key)
        return (
            f"CREATE SCHEMA IF NOT EXISTS {LEGACY_SCHEMA}; "
            f"CREATE TABLE {kept} AS SELECT {keys}, {q(self.column.name)} FROM {q(self.table)}; "
            f"ALTER TABLE {kept} ADD PRIMARY KEY ({keys}); "
            f"{alter_table(self.table)} DROP COLUMN {q(self.column.name)}"
        )

    def reverse(self) -> Operation:
        column, kept = q(self.column.name), f"{LEGACY_SCHEMA}.{self.kept}"
        match = " AND ".join(f"t.{q(c)} = k.{q(c)}" for c in self.key)
        restore = (
            "" if self.column.nullable else f"; {alter_column(self.table, self.column.name)} SET NOT NULL"
        )
        return RawSQL(
            f"Bring column {self.table}.{self.column.name} back",
            f"{alter_table(self.table)} ADD COLUMN {column} {self.column.type.text}; "
            f"UPDATE {q(self.table)} AS t SET {column} = k.{column} FROM {kept} AS k WHERE {match}"
            f"{restore}; DROP TABLE {kept}",
        )


@dataclass(frozen=True)
class CreateTable(Operation):
    """A table with its columns, constraints other than foreign keys (added later, once every
    referenced table exists) and indexes."""

    table: Table
    review: str = ""

    @property
    def description(self) -> str:
        return f"Create table {self.table.name} (missing)"

    def sql(self) -> str:
        name = self.table.name
        columns = sorted(self.table.columns.values(), key=lambda column: column.position)
        statements = [f"CREATE TABLE {q(name)} ({', '.join(column_definition(c) for c in columns)})"]
        statements += [
            AddConstraint(name, c).sql() for c in self.table.constraints if c.referenced_table is None
        ]
        statements += [CreateIndex(name, index).sql() for index in self.table.indexes]
        return "; ".join(statements)

    def reverse(self) -> Operation:
        return RawSQL(f"Drop table {self.table.name}", f"DROP TABLE {q(self.table.name)}")


@dataclass(frozen=True)
class AlterColumnType(Operation):
    """Convert a column's type with a cast (`USING column::type`)."""

    table: str
    column: str
    new_type: str
    old_type: str
    review: str = ""

    @property
    def description(self) -> str:
        return f"Change {self.table}.{self.column} from {self.old_type} to {self.new_type}"

    def sql(self) -> str:
        using = f"{q(self.column)}::{self.new_type}"
        return f"{alter_column(self.table, self.column)} TYPE {self.new_type} USING {using}"

    def reverse(self) -> Operation:
        return AlterColumnType(self.table, self.column, self.old_type, self.new_type)


@dataclass(frozen=True)
class SerialToIdentity(Operation):
    """A serial column (a default drawing on an owned sequence) becomes an identity column
    (`GENERATED BY DEFAULT AS IDENTITY`, as Django 4.1+ creates keys), restarted past max."""

    table: str
    column: str
    review: str = ""

    @property
    def description(self) -> str:
        return f"Make {self.table}.{self.column} an identity column (it is a serial)"

    def sql(self) -> str:
        regclass, column = literal(qualified("public", self.table)), literal(self.column)
        return (
            f"DO $$ DECLARE owned text := pg_get_serial_sequence({regclass}, {column}); BEGIN "
            f"{alter_column(self.table, self.column)} DROP DEFAULT; "
            "IF owned IS NOT NULL THEN EXECUTE 'DROP SEQUENCE ' || owned; END IF; "
            f"{alter_column(self.table, self.column)} ADD GENERATED BY DEFAULT AS IDENTITY; "
            f"PERFORM setval(pg_get_serial_sequence({regclass}, {column}), "
            f"COALESCE((SELECT max({q(self.column)}) FROM {q(self.table)}), 0) + 1, false); END $$"
        )

    def reverse(self) -> Operation:
        return IdentityToSerial(self.table, self.column)


@dataclass(frozen=True)
class IdentityToSerial(Operation):
    """An identity column becomes a serial again (the reverse of SerialToIdentity)."""

    table: str
    column: str
    review: str = ""

    @property
    def description(self) -> str:
        return f"Make {self.table}.{self.column} a serial (it is an identity column)"

    def sql(self) -> str:
        sequence = q(f"{self.table}_{self.column}_seq"[:MAX_IDENTIFIER])
        return (
            f"{alter_column(self.table, self.column)} DROP IDENTITY; "
            f"CREATE SEQUENCE {sequence} OWNED BY {q(self.table)}.{q(self.column)}; "
            f"{alter_column(self.table, self.column)} SET DEFAULT nextval({literal(sequence)}); "
            f"SELECT setval({literal(sequence)}, "
            f"COALESCE((SELECT max({q(self.column)}) FROM {q(self.table)}), 0) + 1, false)"
        )

    def reverse(self) -> Operation:
        return SerialToIdentity(self.table, self.column)


@dataclass(frozen=True)
class SetDefault(Operation):
    """`new` and `old` are default expressions as `pg_get_expr` renders them; None is no default."""

    table: str
    column: str
    new: str | None
    old: str | None
    review: str = ""

    @property
    def description(self) -> str:
        return f"Change the default of {self.table}.{self.column} to {self.new}"

    def sql(self) -> str:
        action = f"SET DEFAULT {self.new}" if self.new is not None else "DROP DEFAULT"
        return f"{alter_column(self.table, self.column)} {action}"

    def reverse(self) -> Operation:
        return SetDefault(self.table, self.column, self.old, self.new)


@dataclass(frozen=True)
class SetNotNull(Operation):
    """Forbid NULL; with `fill`, rows holding NULL first get a value a person writes in."""

    table: str
    column: str
    fill: bool = False
    review: str = ""

    @property
    def description(self) -> str:
        return f"Forbid NULL in {self.table}.{self.column}"

    def sql(self) -> str:
        text = f"{alter_column(self.table, self.column)} SET NOT NULL"
        if self.fill:
            column = q(self.column)
            text = f"UPDATE {q(self.table)} SET {column} = {FILL_PLACEHOLDER} WHERE {column} IS NULL; " + text
        return text

    def reverse(self) -> Operation:
        return DropNotNull(self.table, self.column)


@dataclass(frozen=True)
class DropNotNull(Operation):
    """Allow NULL in a column."""

    table: str
    column: str
    review: str = ""

    @property
    def description(self) -> str:
        return f"Allow NULL in {self.table}.{self.column}"

    def sql(self) -> str:
        return f"{alter_column(self.table, self.column)} DROP NOT NULL"

    def reverse(self) -> Operation:
        return SetNotNull(self.table, self.column)


def raise_exception(message: str) -> str:
    """SQL that fails with `message` (its `$` left out: the block is dollar-quoted)."""
    return f"DO $fail$ BEGIN RAISE EXCEPTION {literal(message.replace('$', ''))}; END $fail$"


@dataclass(frozen=True)
class WriteByHand(Operation):
    """A change the planner cannot write: it fails until a person replaces it."""

    message: str
    review: str = ""

    @property
    def description(self) -> str:
        return self.message

    def sql(self) -> str:
        return raise_exception(self.message)

    def reverse(self) -> Operation:
        return RawSQL("Nothing to undo", "SELECT 1")


@dataclass(frozen=True)
class RawSQL(Operation):
    """SQL with no reverse of its own: only ever the reverse of another operation."""

    text: str
    statement: str
    review: str = ""

    @property
    def description(self) -> str:
        return self.text

    def sql(self) -> str:
        return self.statement

    def reverse(self) -> Operation:
        raise NotImplementedError(f"{self.text}: no reverse")
