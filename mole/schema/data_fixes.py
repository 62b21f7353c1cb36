"""Draft the steps of a data fix: what makes old rows meet a rule a later migration sets.

Each rule comes from a rehearsal of that migration (`manage.py rehearse_migration`, see
dbtools.data_requirements): a table, a column, a condition selecting the rows that break it,
and their number. A step keeps every original value of the column in the `legacy` schema
(with the row keys), gives the breaking rows a value a person chooses (a placeholder that fails
until replaced), and then fails if any row still breaks the rule. A rule on several columns
(a check or unique constraint over them) is left to be written by hand.
"""

from __future__ import annotations

from .custom_migration import LEGACY_SCHEMA
from .custom_migration import Step
from .django_drift import plural_of
from .operations import aside_table
from .operations import raise_exception
from .planner import CONVERTIBLE_FUNCTION
from .quoting import identifier as q
from .quoting import literal

# A call to a function nobody defines: the step fails, naming it, until a person writes the value.
VALUE_PLACEHOLDER = "review_replace_with_the_new_value()"


def fix_steps(requirements: list[dict], migration: str) -> list[Step]:
    """One step per rule that rows break (`rows` > 0), for the data fix that runs right before
    `migration` (`app.name`)."""
    return [fix_step(requirement, migration) for requirement in requirements if requirement["rows"]]


def fix_step(requirement: dict, migration: str) -> Step:
    """The step for one rule: keep, replace, check again."""
    table, column, key = requirement["table"], requirement["column"], requirement["key"]
    rows, kind = requirement["rows"], requirement["kind"]
    counted = f"{rows} {plural_of(rows, 'row')} of {table}"
    breaking = f"{counted} that break {kind}"
    where = f"{counted} break{'s' if rows == 1 else ''} {kind}"
    keys = ", ".join(requirement["first_keys"])
    distinct = " (a different value for each row: they must be unique)" if kind.startswith("UNIQUE") else ""
    review = (f"{where} when {migration} runs (first {key}: {keys}); replace the placeholder call in "
              f"the UPDATE with their new value{distinct}; the originals stay in the legacy schema")
    if column is None or requirement["condition"] is None:
        message = f"{where} (first {key}: {keys}): write the fix by hand"
        return Step(
            f"Fix by hand: {where}",
            forward=raise_exception(message),
            reverse="SELECT 1",
            review=f"{where} when {migration} runs (first {key}: {keys}); the rule spans several columns: "
                   "write this step by hand",
        )
    kept = f"{LEGACY_SCHEMA}.{aside_table(table, column)}"
    condition = requirement["condition"]
    convertible = f"{CONVERTIBLE_FUNCTION}; " if requirement.get("new_type") else ""
    still = literal(f"rows of {table} still break {requirement['kind']}".replace("$", ""))
    forward = (
        f"CREATE SCHEMA IF NOT EXISTS {LEGACY_SCHEMA}; "
        f"CREATE TABLE {kept} AS SELECT {q(key)}, {q(column)} FROM {q(table)}; "
        f"ALTER TABLE {kept} ADD PRIMARY KEY ({q(key)}); "
        f"{convertible}"
        f"UPDATE {q(table)} SET {q(column)} = {VALUE_PLACEHOLDER} WHERE {condition}; "
        f"DO $fix$ BEGIN IF EXISTS (SELECT 1 FROM {q(table)} WHERE {condition}) "
        f"THEN RAISE EXCEPTION {still}; END IF; END $fix$"
    )
    reverse = (
        f"UPDATE {q(table)} SET {q(column)} = kept.{q(column)} FROM {kept} kept "
        f"WHERE {q(table)}.{q(key)} = kept.{q(key)}; DROP TABLE {kept}"
    )
    return Step(f"Give the {breaking} a value they can keep (originals kept in {kept})",
                forward=forward, reverse=reverse, review=review)

