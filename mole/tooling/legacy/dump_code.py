"""Code a loaded dump brought with it, refused before the tooling's user touches the database.

After the load, the tooling's user (a superuser on the local server) migrates,
measures and serves the database. Any function, trigger, rule or operator from the
dump would then run with that user's rights, and so would an expression (a column
default, a check, an index, a view, a policy) that calls a function able to act
beyond its arguments (`lo_export`, or `query_to_xml`, which runs any SQL it is given).
So expressions may call only PostgreSQL's own immutable or stable functions, a few
volatile ones that act on nothing else (`nextval`, `gen_random_uuid`, ...), and an
allowed extension's immutable or stable functions. Mole's schema has none of the rest.
Schemas and extensions other than those the tooling made are refused too: a schema
named after a role would come first in that role's search path.

Built-in functions are pinned, so pg_depend does not record their uses (PostgreSQL docs,
"pg_depend"): the stored expression trees, which name each function by OID, are read instead.
"""
from __future__ import annotations

from schema.quoting import literal as sql_literal
from tooling.errors import UnsafeDump
from tooling.server.backends import Backend

# Volatile built-ins an expression may call: they return a value and touch nothing else.
SAFE_VOLATILE = ("nextval", "gen_random_uuid", "random", "clock_timestamp", "timeofday")
# Schemas a loaded Mole database may have besides the extensions' own.
MOLE_SCHEMAS = ("public", "legacy")

DUMP_CODE_QUERY = """
SET search_path = pg_catalog;  -- so that every name below is shown with its schema
WITH extension_members AS (
    SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
), user_namespaces AS (
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%%'
      AND nspname NOT LIKE 'pg\\_temp%%'
), expression AS (
    SELECT format('the default of %%s.%%I', d.adrelid::regclass, a.attname) AS place, d.adbin::text AS tree,
           d.adrelid AS relation, d.oid AS own_oid
    FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    UNION ALL
    SELECT format('the constraint %%I', c.conname), c.conbin::text, c.conrelid, c.oid
    FROM pg_constraint c WHERE c.conbin IS NOT NULL
    UNION ALL
    SELECT format('the index %%s', i.indexrelid::regclass),
           coalesce(i.indexprs::text, '') || coalesce(i.indpred::text, ''), i.indrelid, i.indexrelid
    FROM pg_index i
    UNION ALL
    SELECT format('the view or rule %%I on %%s', r.rulename, r.ev_class::regclass),
           r.ev_action::text || coalesce(r.ev_qual::text, ''), r.ev_class, r.oid
    FROM pg_rewrite r
    UNION ALL
    SELECT format('the policy %%I on %%s', p.polname, p.polrelid::regclass),
           coalesce(p.polqual::text, '') || coalesce(p.polwithcheck::text, ''), p.polrelid, p.oid
    FROM pg_policy p
    UNION ALL
    SELECT format('the domain %%s', t.oid::regtype), t.typdefaultbin::text, 0, t.oid
    FROM pg_type t WHERE t.typdefaultbin IS NOT NULL
), called AS (
    -- Stored expressions are node trees that name each function (and operator's function) by OID.
    SELECT expression.place, found[1]::oid AS function
    FROM expression
    CROSS JOIN LATERAL regexp_matches(expression.tree, ':(?:funcid|opfuncid|aggfnoid|winfnoid) (\\d+)', 'g')
        AS found
    WHERE expression.own_oid >= 16384  -- FirstNormalObjectId: below it, initdb's own objects
      AND ('pg_class'::regclass, expression.relation) NOT IN (SELECT * FROM extension_members)
)
SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p
WHERE p.pronamespace IN (SELECT oid FROM user_namespaces)
  AND (p.tableoid, p.oid) NOT IN (SELECT * FROM extension_members)
UNION ALL
SELECT 'operator ' || o.oid::regoperator::text FROM pg_operator o
WHERE o.oprnamespace IN (SELECT oid FROM user_namespaces)
  AND (o.tableoid, o.oid) NOT IN (SELECT * FROM extension_members)
UNION ALL
SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text FROM pg_trigger t
WHERE NOT t.tgisinternal
  AND ('pg_class'::regclass, t.tgrelid) NOT IN (SELECT * FROM extension_members)
UNION ALL
SELECT 'rule ' || r.rulename || ' on ' || r.ev_class::regclass::text FROM pg_rewrite r
WHERE r.rulename <> '_RETURN'
  AND ('pg_class'::regclass, r.ev_class) NOT IN (SELECT * FROM extension_members)
  AND r.ev_class IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM user_namespaces))
UNION ALL
SELECT DISTINCT 'a call of ' || called.function::regprocedure::text || ' in ' || called.place
FROM called JOIN pg_proc p ON p.oid = called.function
WHERE NOT (
    p.pronamespace = 'pg_catalog'::regnamespace AND (p.provolatile IN ('i', 's') OR p.proname IN (%(safe)s))
    OR p.provolatile IN ('i', 's') AND (p.tableoid, p.oid) IN (SELECT * FROM extension_members)
)
UNION ALL
SELECT 'schema ' || quote_ident(n.nspname) FROM pg_namespace n
WHERE n.oid IN (SELECT oid FROM user_namespaces) AND n.nspname NOT IN (%(schemas)s)
  AND (n.tableoid, n.oid) NOT IN (SELECT * FROM extension_members)
UNION ALL
-- A schema named after a role comes first in that role's search path ("$user"), whoever made it.
SELECT 'schema ' || quote_ident(n.nspname) || ', named after a role' FROM pg_namespace n
WHERE n.nspname IN (SELECT rolname FROM pg_roles)
UNION ALL
SELECT 'extension ' || quote_ident(e.extname) FROM pg_extension e WHERE e.extname NOT IN (%(extensions)s)
ORDER BY 1
LIMIT 3
"""


def refuse_dump_code(
    backend: Backend, database: str, source: str, *, extensions: tuple[str, ...], schemas: frozenset[str]
) -> None:
    """Raise UnsafeDump naming up to three findings; reads catalogs only, runs nothing of the dump's.

    `extensions` and `schemas` are those the tooling created before the load.
    """
    query = DUMP_CODE_QUERY % {
        "safe": literals(SAFE_VOLATILE),
        "schemas": literals((*MOLE_SCHEMAS, *sorted(schemas))),
        "extensions": literals(("plpgsql", *extensions)),
    }
    found = [line for line in backend.tools.query(query, database=database).stdout.splitlines() if line]
    if found:
        raise UnsafeDump(
            f"{source} brings what would later run with the tooling's rights or was not asked for: "
            f"{'; '.join(found)} (a Mole database has no functions, triggers, rules or operators of its "
            "own, and no schemas or extensions but those the tooling makes)"
        )


def literals(values) -> str:
    """`'a', 'b'`: the values as a list of SQL string constants."""
    return ", ".join(sql_literal(value) for value in values)
