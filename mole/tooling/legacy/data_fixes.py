"""Old rows a later migration cannot take: diagnose them, draft a fix, run a reviewed fix.

When `migrate` fails on a loaded dump, Django has rolled back the migration that failed (each
runs in its own transaction), so the scratch database is right before it. `manage.py
rehearse_migration` then runs that migration operation by operation and measures the rules the
refused one sets on existing rows (dbtools.data_requirements): table, column, rule, number of
rows, first keys. A data fix drafted from them (schema.data_fixes), once reviewed, runs right
before that migration on the next run: the migrations before it run first, then the fix, then
the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from schema.django_drift import plural_of
from schema.fingerprint import MOLE_APPS
from tooling.compliance.lineage import LineageStep
from tooling.compliance.lineage import app_history
from tooling.errors import CommandFailed
from tooling.errors import ToolingError
from tooling.legacy.registry import CustomMigration
from tooling.server.backends import Backend
from tooling.server.database_facts import migration_state
from tooling.server.django_commands import migrate

CANDIDATES = 3  # unapplied migrations tried in plan order: the one that failed is among the first


@dataclass(frozen=True)
class Rehearsal:
    """A migration rehearsed on the old data: the operation PostgreSQL refused, its error, and what
    it asks of existing rows (each a `data_requirements.Requirement` as JSON, measured)."""

    migration: str
    operation: str
    error: str
    requirements: tuple[dict, ...]

    def lines(self) -> list[str]:
        """The diagnosis, one line per rule that rows break; the error when none is known."""
        broken = [item for item in self.requirements if item["rows"]]
        found = [f"{self.migration} cannot take the old data: {self.operation} fails ({self.error})"]
        for item in broken:
            column = f".{item['column']}" if item["column"] else ""
            rows = f"{item['rows']} {plural_of(item['rows'], 'row')}"
            verb = "breaks" if item["rows"] == 1 else "break"
            found.append(f"  {item['table']}{column}: {rows} {verb} {item['kind']} "
                         f"(first {item['key']}: {', '.join(item['first_keys'])})")
        return found


def rehearse(backend: Backend, database: str, migration: str) -> Rehearsal | None:
    """`manage.py rehearse_migration MIGRATION` on `database`; None when every operation ran.
    Raises ToolingError when the command prints something else than its JSON."""
    result = backend.manage(["rehearse_migration", migration], database=database, capture=True)
    try:
        found = json.loads(result.stdout)
        if not found["failed"]:
            return None
        return Rehearsal(found["migration"], found["operation"], found["error"],
                         tuple(found["requirements"]))
    except (json.JSONDecodeError, KeyError) as error:
        raise ToolingError(f"`manage.py rehearse_migration` printed something unexpected: {error}") from error


def diagnose_failed_migrate(backend: Backend, database: str) -> Rehearsal | None:
    """After `migrate` failed on `database`: the rehearsal of the migration that failed (the first
    unapplied ones, in plan order), or None when none fails again (the failure was not the data's)."""
    unapplied = migration_state(backend, database).get("unapplied", [])
    # Mole's own first: Django's apps' migrations (the admin's, in a Mole without it) rarely fail.
    ordered = sorted(unapplied, key=lambda label: label.split(".", 1)[0] not in MOLE_APPS)
    for migration in ordered[:CANDIDATES]:
        found = rehearse(backend, database, migration)
        if found is not None:
            return found
    return None


def run_fixes(
    backend: Backend, database: str, history: list[LineageStep], point: LineageStep,
    fixes: list[CustomMigration],
) -> list[CustomMigration]:
    """Run each reviewed data fix right before its migration: migrate up to the migration before
    it, then the fix. A fix for a migration the dump already had is not run. Returns the fixes
    run. Raises ToolingError for an unreviewed fix or one that fails (with PostgreSQL's words);
    CommandFailed when a migration before it fails."""
    ran = []
    at_point = dict(point.state)
    for fix in fixes:
        if not fix.reviewed:
            raise ToolingError(f"{fix.label} is a data fix nobody reviewed: read its REVIEW notes in "
                               f"{fix.path}, then set REVIEWED = True")
        app, name = fix.runs_before.split(".", 1)
        history_of_app = app_history(history, app)
        if name not in history_of_app:
            raise ToolingError(
                f"{fix.label} runs before {fix.runs_before}, which today's history does not have")
        index = history_of_app.index(name)
        recorded = history_of_app.index(at_point[app]) if at_point.get(app) else -1
        if index <= recorded:
            continue
        if index - 1 > recorded:
            migrate(backend, database, f"{app}.{history_of_app[index - 1]}")
        try:
            backend.manage(["align_legacy", fix.name], database=database)
        except CommandFailed as failure:
            # Not a new diagnosis: the reviewed fix itself needs a look (a placeholder left in).
            raise ToolingError(f"the data fix {fix.label} failed: {failure.detail}") from failure
        ran.append(fix)
    return ran
