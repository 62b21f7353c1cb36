"""Rewrite a dump's recorded migration history from its schema.

What `django_migrations` says about Mole's apps may be wrong: a migration recorded under a
name our history does not have (renamed since), a migration recorded without its parent
(Django then refuses everything with InconsistentMigrationHistory), or nothing at all. The
schema says where the dump really is (its point in the lineage), so the rows of Mole's apps
are made exactly the migrations up to that point, in one transaction; the rows of the
migrations the dump already recorded keep their `applied` times.
"""

from __future__ import annotations

from dataclasses import dataclass

from schema.fingerprint import MOLE_APPS
from schema.quoting import literal
from tooling.compliance.lineage import LineageStep
from tooling.compliance.lineage import migrations_through
from tooling.server.backends import Backend

TABLE = "public.django_migrations"


@dataclass(frozen=True)
class HistoryRewrite:
    """What changed in `django_migrations` for Mole's apps (`app.name` each)."""

    removed: tuple[str, ...]  # recorded by the dump, but not up to its point under our names
    added: tuple[str, ...]  # up to its point, but not recorded by the dump

    @property
    def changed(self) -> bool:
        """Whether any row was removed or recorded."""
        return bool(self.removed or self.added)

    def as_dict(self) -> dict[str, list[str]]:
        """The JSON form (manifests)."""
        return {"removed": list(self.removed), "added": list(self.added)}

    def describe(self) -> str:
        """One line: what was removed and what recorded."""
        parts = []
        if self.removed:
            parts.append(f"removed {', '.join(self.removed)}")
        if self.added:
            parts.append(f"recorded {', '.join(self.added)}")
        return "; ".join(parts) or "nothing to change"


def recorded_migrations(backend: Backend, database: str) -> set[str] | None:
    """Mole's apps' rows in `django_migrations` as `app.name`; None when the table is missing."""
    if backend.tools.value(f"SELECT to_regclass({literal(TABLE)}) IS NOT NULL", database=database) != "t":
        return None
    apps = ", ".join(literal(app) for app in MOLE_APPS)
    rows = backend.tools.query(
        f"SELECT app || '.' || name FROM {TABLE} WHERE app IN ({apps})", database=database
    ).stdout.splitlines()
    return {row for row in rows if row}


def rewrite_history(
    backend: Backend, database: str, history: list[LineageStep], point: LineageStep, customs: set[str]
) -> HistoryRewrite | None:
    """Make Mole's apps' rows in `django_migrations` exactly the migrations up to `point`; rows of
    custom migrations (`customs`, `app.name`: they change no schema) are left as they are.
    Returns what changed; None when the dump has no `django_migrations` (Django makes it).
    Raises CommandFailed when PostgreSQL refuses."""
    recorded = recorded_migrations(backend, database)
    if recorded is None:
        return None
    recorded -= customs
    wanted = [f"{app}.{name}" for app, names in migrations_through(history, point).items() for name in names]
    removed = tuple(sorted(recorded - set(wanted)))
    added = tuple(label for label in wanted if label not in recorded)
    statements = [
        f"DELETE FROM {TABLE} WHERE app = {literal(app)} AND name = {literal(name)}"
        for app, name in (label.split(".", 1) for label in removed)
    ] + [
        f"INSERT INTO {TABLE} (app, name, applied) VALUES ({literal(app)}, {literal(name)}, now())"
        for app, name in (label.split(".", 1) for label in added)
    ]
    if statements:
        backend.tools.query(";\n".join(statements), database=database)  # one string, one transaction
    return HistoryRewrite(removed, added)
