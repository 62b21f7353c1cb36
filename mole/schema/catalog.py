"""Read one schema (namespace) of a PostgreSQL database from its system catalogs into a `Schema`.

Works on any DB-API cursor (Django's inside a container, psycopg2's in tests). The catalogs and
functions used are described in PostgreSQL's documentation, chapter 51 "System Catalogs"
(pg_class, pg_attribute, pg_attrdef, pg_constraint, pg_index, pg_type, pg_am) and 9.27 "System
Information Functions" (format_type, pg_get_expr, pg_get_constraintdef, pg_get_indexdef).
"""

from __future__ import annotations

import re
from typing import Any

from .model import Column
from .model import ColumnType
from .model import Constraint
from .model import ConstraintKind
from .model import Identity
from .model import Index
from .model import Schema
from .model import Table

# Tables that belong to an extension (postgis's `spatial_ref_sys`) are the extension's, not the
# schema's: pg_depend records them with deptype 'e' (PostgreSQL docs, "pg_depend").
OWN_TABLE = """NOT EXISTS (SELECT 1 FROM pg_depend member WHERE member.classid = 'pg_class'::regclass
                  AND member.objid = {alias}.oid AND member.deptype = 'e')"""

TABLES = """
SELECT c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND {own_table}
ORDER BY c.relname
""".format(own_table=OWN_TABLE.format(alias="c"))

# An array column's element type is pg_type.typelem; its name is the base.
COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       COALESCE(element.typname, t.typname), element.oid IS NOT NULL,
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attnum
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type element ON element.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND {own_table}
ORDER BY c.relname, a.attnum
""".format(own_table=OWN_TABLE.format(alias="c"))

# contype 'n' (PostgreSQL 18's catalogued NOT NULL) is left out: nullability is a column property.
CONSTRAINTS = """
SELECT c.relname, con.contype, con.conname, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord),
       referenced.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.ord)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class referenced ON referenced.oid = con.confrelid
WHERE n.nspname = %(schema)s AND con.contype IN ('p', 'u', 'f', 'c', 'x') AND {own_table}
ORDER BY c.relname, con.contype, pg_get_constraintdef(con.oid)
""".format(own_table=OWN_TABLE.format(alias="c"))

# Indexes that back a constraint are compared as that constraint.
INDEXES = """
SELECT t.relname, i.relname, ix.indisunique, pg_get_indexdef(ix.indexrelid),
       ARRAY(SELECT COALESCE(a.attname, '(expression)')
             FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num
             ORDER BY k.ord),
       am.amname
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
WHERE n.nspname = %(schema)s AND {own_table}
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid
                  AND con.conrelid = ix.indrelid)
ORDER BY t.relname, pg_get_indexdef(ix.indexrelid)
""".format(own_table=OWN_TABLE.format(alias="t"))

SEQUENCE_DEFAULT = re.compile(r"^nextval\('[^']*'::regclass\)$")
INDEX_BODY = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ (USING .*)$")
# The first parenthesised part of a rendered type: `character varying(100)`, `geometry(Point,4326)`.
TYPE_MODIFIERS = re.compile(r"\(([^()]*)\)")
IDENTITY = {"a": Identity.ALWAYS, "d": Identity.BY_DEFAULT}


def normalize_default(default: str | None) -> str | None:
    """A serial's default names its sequence; the sequence's name is not structure."""
    if default is not None and SEQUENCE_DEFAULT.match(default):
        return Column.SERIAL_DEFAULT
    return default


def index_definition(create_statement: str) -> str:
    """`CREATE UNIQUE INDEX name ON public.t USING btree (a)` -> `UNIQUE USING btree (a)`."""
    match = INDEX_BODY.match(create_statement)
    if not match:
        return create_statement
    return ("UNIQUE " if match.group(1) else "") + match.group(3)


def column_type(text: str, base: str, array: bool) -> ColumnType:
    """The rendered type with its modifiers split out (a type's modifiers hold no parentheses)."""
    match = TYPE_MODIFIERS.search(text)
    modifiers = tuple(part.strip() for part in match.group(1).split(",")) if match else ()
    return ColumnType(text, base, modifiers, array)


def read_schema(cursor: Any, schema: str = "public") -> Schema:
    """The tables of `schema` with their columns, constraints and indexes (four catalog queries)."""
    params = {"schema": schema}
    cursor.execute(TABLES, params)
    names = [name for (name,) in cursor.fetchall()]
    columns: dict[str, dict[str, Column]] = {name: {} for name in names}
    constraints: dict[str, list[Constraint]] = {name: [] for name in names}
    indexes: dict[str, list[Index]] = {name: [] for name in names}

    cursor.execute(COLUMNS, params)
    for table, name, text, base, array, not_null, default, identity, generated, position in cursor.fetchall():
        columns[table][name] = Column(
            name,
            column_type(text, base, bool(array)),
            nullable=not not_null,
            default=normalize_default(default),
            identity=IDENTITY.get(identity or ""),
            generated=bool(generated),
            position=position,
        )

    cursor.execute(CONSTRAINTS, params)
    for table, kind, name, definition, keys, referenced, referenced_keys in cursor.fetchall():
        constraints[table].append(
            Constraint(
                ConstraintKind(kind), name, definition, tuple(keys), referenced, tuple(referenced_keys)
            )
        )

    cursor.execute(INDEXES, params)
    for table, name, unique, create_statement, keys, method in cursor.fetchall():
        indexes[table].append(
            Index(name, bool(unique), index_definition(create_statement), tuple(keys), method)
        )
    tables = {
        name: Table(name, columns[name], tuple(constraints[name]), tuple(indexes[name])) for name in names
    }
    return Schema(schema, tables)
