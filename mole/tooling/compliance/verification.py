"""Is a database compliant? Models agree with migrations, nothing is unapplied,
and its live schema equals the reference schema by structure.

`makemigrations --check` alone compares models with migration *files*; only the
schema comparison looks at the database itself.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from schema.compare import compare
from schema.custom_migration import LEGACY_SCHEMA
from schema.differences import Difference
from schema.model import Schema
from schema.model import Table
from tooling.compliance.reference_schema import reference_snapshot
from tooling.compliance.reference_schema import snapshot_at
from tooling.compliance.sequences import sequences_behind
from tooling.errors import DatabaseNotFound
from tooling.process import last_lines
from tooling.server.backends import Backend
from tooling.server.database_facts import MigrationState
from tooling.server.database_facts import migration_state
from tooling.server.database_facts import schema_snapshots
from tooling.settings import Settings


@dataclass
class CheckResult:
    """One check of `verify`: its name, what it checks, and the problems found (none: passed)."""

    name: str
    summary: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


@dataclass
class VerificationReport:
    """Every check on one database, and the schema differences found."""

    database: str
    checks: list[CheckResult]
    differences: list[Difference]
    # What the checks read, for callers that need it too (not part of the report): the schemas
    # by name (public, and the legacy schema custom migrations move data into).
    schemas: dict[str, Schema] = field(default_factory=dict, repr=False)
    migration_state: MigrationState = field(default_factory=dict, repr=False)

    @property
    def schema(self) -> Schema:
        """The public schema as the checks read it."""
        return self.schemas["public"]

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(check.ok for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (`verify --json`, bundle manifests)."""
        return {
            "database": self.database,
            "ok": self.ok,
            "checks": {
                check.name: {"ok": check.ok, "summary": check.summary, "problems": check.problems}
                for check in self.checks
            },
            "differences": [difference.as_dict() for difference in self.differences],
        }

    def write_json(self, path: Path) -> None:
        """Write `as_dict` to `path`, indented."""
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")


def check_models_match_migrations(backend: Backend, database: str) -> CheckResult:
    """`makemigrations --check --dry-run` on `database`: models agree with the migration files."""
    result = backend.manage(
        ["makemigrations", "--check", "--dry-run", "--no-input"],
        database=database, capture=True, check=False,
    )
    check = CheckResult("models_match_migrations", "models agree with the migration files")
    if result.returncode != 0:
        changes = [line.strip() for line in result.stdout.splitlines() if line.strip()]
        detail = "; ".join(changes) or last_lines(result.stderr) or "no details"
        check.problems.append(f"models changed without a migration: {detail}")
    return check


def check_migrations_applied(state: MigrationState, later: tuple[str, ...] = ()) -> CheckResult:
    """Nothing unapplied but the migrations `later` than the head a database was made at."""
    check = CheckResult("migrations_applied", "no migration is left unapplied")
    if later:
        check.summary = "no migration is left unapplied up to the head it was made at"
    for name in state.get("unapplied", []):
        if name not in later:
            check.problems.append(f"migration not applied: {name}")
    return check


def check_schema_matches_reference(
    backend: Backend, settings: Settings, live: Schema, at: HistoryPoint | None = None
) -> tuple[CheckResult, list[Difference]]:
    """The live schema against the reference (or the reference at `at`), by structure."""
    reference = reference_snapshot(backend, settings)
    summary = "live schema equals the reference schema"
    if at is not None:
        reference = snapshot_at(reference, at.tables)
        summary = f"schema equals the reference schema at {at.migration}"
    differences = compare(reference, live)
    check = CheckResult("schema_matches_reference", summary)
    check.problems.extend(difference.describe() for difference in differences)
    return check, differences


def check_sequences_past_max(backend: Backend, database: str) -> CheckResult:
    """Every sequence and identity of `database` hands out values past its column's max."""
    check = CheckResult(
        "sequences_past_max", "every sequence and identity hands out values past its column's max"
    )
    check.problems.extend(item.describe() for item in sequences_behind(backend, database))
    return check


@dataclass(frozen=True)
class HistoryPoint:
    """An older head a database was made at: its migration, Mole's tables then, and the
    migrations today's history has after it (all from the lineage)."""

    migration: str
    tables: dict[str, Table]
    later: tuple[str, ...]


VERIFIED_SCHEMAS = ("public", LEGACY_SCHEMA)


def verify_database(
    backend: Backend, settings: Settings, database: str, *, at: HistoryPoint | None = None,
    schemas: dict[str, Schema] | None = None,
) -> VerificationReport:
    """Check `database` against today's head, or against the older head `at` it was made at.
    `schemas` are its snapshots of VERIFIED_SCHEMAS if the caller has taken them already."""
    if not backend.admin.database_exists(database):
        raise DatabaseNotFound(database, "run `invoke migrate` first")
    with backend.django_session():
        return verification_of(backend, settings, database, at, schemas)


def verification_of(
    backend: Backend, settings: Settings, database: str, at: HistoryPoint | None,
    schemas: dict[str, Schema] | None,
) -> VerificationReport:
    """The body of `verify_database`, run in one Django session."""
    models_check = check_models_match_migrations(backend, database)
    state = migration_state(backend, database)
    schemas = schemas or schema_snapshots(backend, database, VERIFIED_SCHEMAS)
    live = schemas["public"]
    schema_check, differences = check_schema_matches_reference(backend, settings, live, at)
    checks = [models_check, check_migrations_applied(state, at.later if at else ()), schema_check,
              check_sequences_past_max(backend, database)]
    return VerificationReport(database, checks, differences, schemas=schemas, migration_state=state)
