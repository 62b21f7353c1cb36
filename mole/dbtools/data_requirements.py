"""What a migration's operation asks of the data already in a table, as SQL conditions.

A migration that changes a column's type, makes it NOT NULL or unique, turns it into a
foreign key, or adds a check or unique constraint, fails on old rows that do not meet the
new rule. Each rule becomes a `Requirement`: the table, the column, and a condition that
selects exactly the rows that break it, so that they can be counted, named by key, and fixed
by a reviewed data fix before the migration runs.

Conditions are SQL over the table's own columns as the database has them right before the
operation. A type change is tested with `pg_temp.mole_convertible` (schema.planner's
CONVERTIBLE_FUNCTION, created in the session first): whether each value's text casts to the
new type, as `ALTER COLUMN ... TYPE ... USING col::type` needs (PostgreSQL docs, ALTER TABLE).
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass

from django.db import models
from django.db.migrations import operations
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP

from schema.quoting import identifier as q
from schema.quoting import literal

FIRST_KEYS = 5  # how many keys of breaking rows a report names


@dataclass
class Requirement:
    """One rule an operation sets on existing rows. `condition` selects the rows that break it
    (None: the rule is not known, only PostgreSQL's error); `rows` and `first_keys` are measured."""

    table: str
    column: str | None
    kind: str  # "cast to jsonb", "NOT NULL", "UNIQUE (a, b)", "foreign key to t.id", "CHECK (...)"
    key: str  # the table's primary key column
    condition: str | None
    new_type: str | None = None  # for a cast: the type the values must convert to
    rows: int = 0
    first_keys: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """The JSON form (`manage.py rehearse_migration`)."""
        return asdict(self)


def requirements_of(operation, app: str, before, after, editor) -> list[Requirement]:
    """The rules `operation` (of a migration of `app`) sets on rows that exist, between the project
    states `before` and `after` it. Operations that touch no existing row give none."""
    if isinstance(operation, operations.AlterField):
        return altered_field(app, operation, before, after, editor)
    if isinstance(operation, operations.AddField):
        return added_field(app, operation, after, editor)
    if isinstance(operation, operations.AddConstraint):
        return added_constraint(app, operation, after, editor)
    if isinstance(operation, operations.AlterUniqueTogether):
        model = after.apps.get_model(app, operation.name)
        old = before.apps.get_model(app, operation.name)._meta.unique_together
        return [duplicates(model, [model._meta.get_field(name).column for name in fields])
                for fields in model._meta.unique_together if fields not in old]
    return []


def altered_field(app: str, operation, before, after, editor) -> list[Requirement]:
    """A column's new type, nullability, uniqueness and foreign key."""
    model = after.apps.get_model(app, operation.model_name)
    old = before.apps.get_model(app, operation.model_name)._meta.get_field(operation.name)
    new = model._meta.get_field(operation.name)
    table, column, key = model._meta.db_table, old.column, model._meta.pk.column
    found = []
    new_type, old_type = new.db_type(editor.connection), old.db_type(editor.connection)
    if new_type and new_type != old_type:
        found.append(Requirement(
            table, column, f"cast to {new_type}", key,
            f"{q(column)} IS NOT NULL AND "
            f"NOT pg_temp.mole_convertible({q(column)}::text, {literal(new_type)})",
            new_type=new_type,
        ))
    if old.null and not new.null:
        found.append(Requirement(table, column, "NOT NULL", key, f"{q(column)} IS NULL"))
    if new.unique and not old.unique and not new.primary_key:
        found.append(duplicates(model, [column]))
    if new.remote_field and isinstance(new, models.ForeignKey) and not isinstance(old, models.ForeignKey):
        found.append(missing_targets(model, column, new))
    return found


def added_field(app: str, operation, after, editor) -> list[Requirement]:
    """A new NOT NULL column without a default cannot be filled on a table with rows."""
    model = after.apps.get_model(app, operation.model_name)
    field = model._meta.get_field(operation.name)
    if field.many_to_many or field.null or field.has_default() or field.db_default is not models.NOT_PROVIDED:
        return []
    # No column yet to give values to: every row breaks it, and the fix is written by hand.
    return [Requirement(model._meta.db_table, None, f"a new NOT NULL column {field.column} without a default",
                        model._meta.pk.column, "true")]


def added_constraint(app: str, operation, after, editor) -> list[Requirement]:
    """A check constraint's condition, or a unique constraint's columns (without a condition)."""
    model = after.apps.get_model(app, operation.model_name)
    constraint = operation.constraint
    if isinstance(constraint, models.CheckConstraint):
        check = constraint._get_check_sql(model, editor)  # Django renders the condition itself
        columns = condition_columns(model, constraint.condition)
        column = columns.pop() if len(columns) == 1 else None
        return [Requirement(model._meta.db_table, column, f"CHECK ({check})", model._meta.pk.column,
                            f"NOT ({check})")]
    if isinstance(constraint, models.UniqueConstraint) and constraint.fields and not constraint.condition:
        return [duplicates(model, [model._meta.get_field(name).column for name in constraint.fields])]
    return []


def condition_columns(model, condition) -> set[str]:
    """The columns a check constraint's Q names on its left-hand sides (`speed__gte` -> speed)."""
    names: set[str] = set()

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, Q):
                walk(child)
            elif isinstance(child, tuple):
                names.add(child[0].split(LOOKUP_SEP)[0])

    walk(condition if isinstance(condition, Q) else Q(condition))
    return {model._meta.get_field(name).column for name in names}


def duplicates(model, columns: list[str]) -> Requirement:
    """Rows whose values in `columns` (none NULL) another row has too."""
    listed = ", ".join(q(column) for column in columns)
    table = q(model._meta.db_table)
    condition = (f"({listed}) IN (SELECT {listed} FROM {table} GROUP BY {listed} HAVING count(*) > 1)")
    return Requirement(model._meta.db_table, columns[0] if len(columns) == 1 else None,
                       f"UNIQUE ({', '.join(columns)})", model._meta.pk.column, condition)


def missing_targets(model, column: str, field) -> Requirement:
    """Rows whose value names no row of the table the new foreign key points to."""
    target = field.related_model._meta
    target_column = field.target_field.column
    condition = (f"{q(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {q(target.db_table)} target "
                 f"WHERE target.{q(target_column)}::text = {q(model._meta.db_table)}.{q(column)}::text)")
    return Requirement(model._meta.db_table, column, f"foreign key to {target.db_table}.{target_column}",
                       model._meta.pk.column, condition)


def measure(cursor, requirement: Requirement) -> Requirement:
    """Count the rows that break `requirement` and name the first ones by key (in key order)."""
    if requirement.condition is None:
        return requirement
    table, key = q(requirement.table), q(requirement.key)
    cursor.execute(f"SELECT count(*) FROM {table} WHERE {requirement.condition}")
    requirement.rows = cursor.fetchone()[0]
    # Ordered by the key itself, not by its text (the output column has the key's name).
    cursor.execute(f"SELECT {key}::text FROM {table} WHERE {requirement.condition} "
                   f"ORDER BY {table}.{key} LIMIT {FIRST_KEYS}")
    requirement.first_keys = tuple(row[0] for row in cursor.fetchall())
    return requirement
