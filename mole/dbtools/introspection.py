"""Read a PostgreSQL schema from the catalogs into plain, JSON-ready data.

Works on any DB-API cursor, so it runs through Django inside a container and
through psycopg2 in tests alike. Names of constraints and indexes are kept for
reports, but each also gets a structural `definition` (PostgreSQL's own
rendering, without the name) by which schemas are compared: names differ
across Django versions, structure must not.
"""
from __future__ import annotations

import re
from typing import Any

TABLES = """
SELECT c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""

COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attnum
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

# contype 'n' (PostgreSQL 18's catalogued NOT NULL) is left out: nullability is a column property.
CONSTRAINTS = """
SELECT c.relname, con.contype, con.conname, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND con.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY c.relname, con.contype, pg_get_constraintdef(con.oid)
"""

# Indexes that back a constraint are compared as that constraint.
INDEXES = """
SELECT t.relname, i.relname, ix.indisunique, pg_get_indexdef(ix.indexrelid),
       ARRAY(SELECT COALESCE(a.attname, '(expression)')
             FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num
             ORDER BY k.ord)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %(schema)s
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid
                  AND con.conrelid = ix.indrelid)
ORDER BY t.relname, pg_get_indexdef(ix.indexrelid)
"""

SEQUENCE_DEFAULT = re.compile(r"^nextval\('[^']*'::regclass\)$")
INDEX_BODY = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ (USING .*)$")


def normalize_default(default: str | None) -> str | None:
    """A serial's default names its sequence; the sequence's name is not structure."""
    if default is not None and SEQUENCE_DEFAULT.match(default):
        return "nextval(<sequence>)"
    return default


def index_definition(create_statement: str) -> str:
    """`CREATE UNIQUE INDEX name ON public.t USING btree (a)` -> `UNIQUE USING btree (a)`."""
    match = INDEX_BODY.match(create_statement)
    if not match:
        return create_statement
    return ("UNIQUE " if match.group(1) else "") + match.group(3)


def snapshot(cursor: Any, schema: str = "public") -> dict[str, Any]:
    """The schema's tables with their columns, constraints and indexes."""
    params = {"schema": schema}
    tables: dict[str, dict[str, Any]] = {}
    cursor.execute(TABLES, params)
    for (table,) in cursor.fetchall():
        tables[table] = {"columns": {}, "constraints": [], "indexes": []}

    cursor.execute(COLUMNS, params)
    for table, column, data_type, not_null, default, identity, generated, position in cursor.fetchall():
        tables[table]["columns"][column] = {
            "type": data_type,
            "nullable": not not_null,
            "default": normalize_default(default),
            "identity": {"a": "always", "d": "by default"}.get(identity or "", None),
            "generated": bool(generated),
            "position": position,
        }

    cursor.execute(CONSTRAINTS, params)
    for table, contype, name, definition, columns in cursor.fetchall():
        tables[table]["constraints"].append(
            {"type": contype, "name": name, "definition": definition, "columns": list(columns)}
        )

    cursor.execute(INDEXES, params)
    for table, name, unique, create_statement, columns in cursor.fetchall():
        tables[table]["indexes"].append(
            {
                "name": name,
                "unique": bool(unique),
                "definition": index_definition(create_statement),
                "columns": list(columns),
            }
        )
    return {"schema": schema, "tables": tables}
