"""A PostgreSQL schema as frozen dataclasses: tables, columns, constraints and indexes.

Built from the catalogs by `catalog.read_schema`, carried between processes as JSON
(`to_json`/`from_json`), compared by `compare`, fingerprinted by `fingerprint`. Every structural
fact the catalogs know is kept structured (a foreign key's columns and referenced table, a type's
modifiers), so nothing downstream re-parses SQL text. Names of constraints and indexes are kept for
reports and renames; comparison goes by `definition` (PostgreSQL's own rendering without the name),
because Django versions name the same structure differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from enum import Enum
from typing import Any
from typing import Mapping

JsonObject = dict[str, Any]


class ConstraintKind(Enum):
    """`pg_constraint.contype` (PostgreSQL docs, 51.13 pg_constraint); NOT NULL is a column property."""

    PRIMARY_KEY = "p"
    UNIQUE = "u"
    FOREIGN_KEY = "f"
    CHECK = "c"
    EXCLUSION = "x"

    @property
    def label(self) -> str:
        """How reports name it: `primary key`, `foreign key`, ..."""
        return self.name.lower().replace("_", " ")


class Identity(Enum):
    """`pg_attribute.attidentity`: how an identity column takes values (docs, CREATE TABLE)."""

    ALWAYS = "always"
    BY_DEFAULT = "by default"


@dataclass(frozen=True)
class ColumnType:
    """A column's type as `format_type` renders it (`text`), with its parts.

    `base` is the element type's name in `pg_type` (`geometry`, `varchar`, `float8`), `array` says
    whether the column holds an array of it, and `modifiers` are the type modifier's parts as
    rendered (`geometry(Point,4326)` -> `("Point", "4326")`, `numeric(10,2)` -> `("10", "2")`).
    Two types are the same type when their `text` is.
    """

    text: str
    base: str = ""
    modifiers: tuple[str, ...] = ()
    array: bool = False

    def __str__(self) -> str:
        return self.text

    @property
    def geometry(self) -> bool:
        """True for PostGIS's geometry and geography types."""
        return self.base in ("geometry", "geography")


@dataclass(frozen=True)
class Column:
    """One column. `default` is `pg_get_expr` of its default, a serial's sequence name replaced by
    `nextval(<sequence>)` (a sequence's name is not structure); `position` is `attnum`."""

    name: str
    type: ColumnType
    nullable: bool
    default: str | None = None
    identity: Identity | None = None
    generated: bool = False
    position: int = 0

    SERIAL_DEFAULT = "nextval(<sequence>)"

    @property
    def serial(self) -> bool:
        """True for a serial column: its default draws on a sequence."""
        return self.default == self.SERIAL_DEFAULT


@dataclass(frozen=True)
class Constraint:
    """A primary key, unique, foreign key, check or exclusion constraint.

    `definition` is `pg_get_constraintdef`: the structure, by which constraints are matched.
    `columns` are the constrained columns in key order; a foreign key also has the table and
    columns it references.
    """

    kind: ConstraintKind
    name: str
    definition: str
    columns: tuple[str, ...] = ()
    referenced_table: str | None = None
    referenced_columns: tuple[str, ...] = ()

    @property
    def structure(self) -> tuple[ConstraintKind, str]:
        """What constraints are matched by: kind and definition, never the name."""
        return (self.kind, self.definition)


@dataclass(frozen=True)
class Index:
    """An index that backs no constraint. `definition` is `pg_get_indexdef` without `CREATE`, the
    name and the table: `UNIQUE USING btree (a)`; `method` is the access method (`btree`, `gist`);
    `columns` holds `(expression)` for an expression's place."""

    name: str
    unique: bool
    definition: str
    columns: tuple[str, ...] = ()
    method: str = ""

    @property
    def structure(self) -> str:
        """What indexes are matched by: the definition, never the name."""
        return self.definition


@dataclass(frozen=True)
class Table:
    """A table with its columns (by name, in `position` order), constraints and indexes."""

    name: str
    columns: Mapping[str, Column] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()

    @property
    def primary_key(self) -> Constraint | None:
        """The primary key constraint, or None."""
        return next((c for c in self.constraints if c.kind is ConstraintKind.PRIMARY_KEY), None)

    def of_kind(self, kind: ConstraintKind) -> tuple[Constraint, ...]:
        """The constraints of one kind, in catalog order."""
        return tuple(c for c in self.constraints if c.kind is kind)


@dataclass(frozen=True)
class Schema:
    """The tables of one PostgreSQL schema (namespace), by name."""

    name: str = "public"
    tables: Mapping[str, Table] = field(default_factory=dict)

    def only(self, keep) -> Schema:
        """The same schema with only the tables for which `keep(name)` is true."""
        return Schema(self.name, {name: table for name, table in self.tables.items() if keep(name)})

    def with_tables(self, tables: Mapping[str, Table]) -> Schema:
        """The same schema with `tables` added or replacing tables of the same name."""
        return Schema(self.name, {**self.tables, **tables})


# JSON form: how snapshots cross from a management command to the host and into caches.
# Bump FORMAT when it changes, so caches written in an older form are not read.
FORMAT = 2


def to_json(schema: Schema) -> JsonObject:
    """The JSON form of `schema` (with FORMAT), as management commands print it and caches keep it."""
    return {
        "format": FORMAT,
        "schema": schema.name,
        "tables": {name: table_to_json(table) for name, table in schema.tables.items()},
    }


def table_to_json(table: Table) -> JsonObject:
    """One table's JSON form (columns by name, constraints and indexes as lists)."""
    return {
        "columns": {
            column.name: {
                "type": column.type.text,
                "base": column.type.base,
                "modifiers": list(column.type.modifiers),
                "array": column.type.array,
                "nullable": column.nullable,
                "default": column.default,
                "identity": column.identity.value if column.identity else None,
                "generated": column.generated,
                "position": column.position,
            }
            for column in table.columns.values()
        },
        "constraints": [
            {
                "type": c.kind.value,
                "name": c.name,
                "definition": c.definition,
                "columns": list(c.columns),
                "referenced_table": c.referenced_table,
                "referenced_columns": list(c.referenced_columns),
            }
            for c in table.constraints
        ],
        "indexes": [
            {
                "name": i.name,
                "unique": i.unique,
                "definition": i.definition,
                "columns": list(i.columns),
                "method": i.method,
            }
            for i in table.indexes
        ],
    }


class UnknownSnapshotFormat(ValueError):
    """A snapshot written by another version of this code: rebuild it rather than guess."""


def from_json(data: JsonObject) -> Schema:
    """Raises UnknownSnapshotFormat when `data` is not in this module's FORMAT."""
    if data.get("format") != FORMAT:
        raise UnknownSnapshotFormat(f"schema snapshot format {data.get('format')!r}, expected {FORMAT}")
    return Schema(data["schema"], tables_from_json(data["tables"]))


def tables_from_json(tables: JsonObject) -> dict[str, Table]:
    """Tables by name from their JSON form."""
    return {name: table_from_json(name, table) for name, table in tables.items()}


def table_from_json(name: str, data: JsonObject) -> Table:
    """One table from its JSON form (as `table_to_json` writes it)."""
    columns = {
        column: Column(
            column,
            ColumnType(props["type"], props["base"], tuple(props["modifiers"]), props["array"]),
            props["nullable"],
            props["default"],
            Identity(props["identity"]) if props["identity"] else None,
            props["generated"],
            props["position"],
        )
        for column, props in data["columns"].items()
    }
    constraints = tuple(
        Constraint(
            ConstraintKind(c["type"]),
            c["name"],
            c["definition"],
            tuple(c["columns"]),
            c["referenced_table"],
            tuple(c["referenced_columns"]),
        )
        for c in data["constraints"]
    )
    indexes = tuple(
        Index(i["name"], i["unique"], i["definition"], tuple(i["columns"]), i["method"])
        for i in data["indexes"]
    )
    return Table(name, columns, constraints, indexes)
