"""Code a loaded dump brought with it, refused before the tooling's user touches the database.

After the load, the tooling's user (a superuser on the local server) migrates,
measures and serves the database. Any function, trigger, rule or operator from the
dump would then run with that user's rights, and so would an expression (a column
default, a check, an index, a view, a policy) that calls a function PUBLIC may not execute,
such as `lo_export` or `pg_read_file`. Mole's schema has none of these; objects that
belong to an extension (PostGIS's functions) are the extension's, not the dump's.

Built-in functions are pinned, so pg_depend does not record their uses (PostgreSQL docs,
"pg_depend"): the stored expression trees, which name each function by OID, are read instead.
"""
from __future__ import annotations

from .backends import Backend
from .errors import UnsafeDump

# One line per finding, the dump's own objects only (an extension's members are excluded).
DUMP_CODE_QUERY = """
SET search_path = pg_catalog;  -- so that every name below is shown with its schema
WITH extension_members AS (
    SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
), user_namespaces AS (
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%'
      AND nspname NOT LIKE 'pg\\_temp%'
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
SELECT 'a use of ' || call.function::regprocedure::text || ' (only a superuser may run it) in '
       || expression.place
FROM (
    SELECT format('the default of %s.%I', d.adrelid::regclass, a.attname) AS place, d.adbin::text AS tree,
           d.adrelid AS relation, d.oid AS own_oid
    FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    UNION ALL
    SELECT format('the constraint %I', c.conname), c.conbin::text, c.conrelid, c.oid
    FROM pg_constraint c WHERE c.conbin IS NOT NULL
    UNION ALL
    SELECT format('the index %s', i.indexrelid::regclass),
           coalesce(i.indexprs::text, '') || coalesce(i.indpred::text, ''), i.indrelid, i.indexrelid
    FROM pg_index i
    UNION ALL
    SELECT format('the view or rule %I on %s', r.rulename, r.ev_class::regclass),
           r.ev_action::text || coalesce(r.ev_qual::text, ''), r.ev_class, r.oid
    FROM pg_rewrite r
    UNION ALL
    SELECT format('the policy %I on %s', p.polname, p.polrelid::regclass),
           coalesce(p.polqual::text, '') || coalesce(p.polwithcheck::text, ''), p.polrelid, p.oid
    FROM pg_policy p
    UNION ALL
    SELECT format('the domain %s', t.oid::regtype), t.typdefaultbin::text, 0, t.oid
    FROM pg_type t WHERE t.typdefaultbin IS NOT NULL
) AS expression
CROSS JOIN LATERAL (
    -- Stored expressions are node trees that name each function they call by OID.
    SELECT found[1]::oid AS function
    FROM regexp_matches(expression.tree, ':(?:funcid|aggfnoid|winfnoid) (\\d+)', 'g') AS found
) AS call
WHERE expression.own_oid >= 16384  -- FirstNormalObjectId: below it, initdb's own objects
  AND ('pg_class'::regclass, expression.relation) NOT IN (SELECT * FROM extension_members)
  AND NOT has_function_privilege('public', call.function, 'EXECUTE')
ORDER BY 1
LIMIT 3
"""


def refuse_dump_code(backend: Backend, database: str, source: str) -> None:
    """Raise UnsafeDump naming up to three such objects; reads catalogs only, runs nothing of the dump's."""
    found = [line for line in backend.sql(DUMP_CODE_QUERY, database=database).stdout.splitlines() if line]
    if found:
        raise UnsafeDump(
            f"{source} brings code that would later run with the tooling's rights: {'; '.join(found)} "
            "(Mole's schema has no functions, triggers, rules or operators of its own)"
        )
