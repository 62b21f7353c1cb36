"""Where a legacy schema sits in Mole's migration history.

The history is a set of points, each a migration of each of Mole's apps (data_collection,
automation) that Django could reach, earliest first (`manage.py schema_lineage`). A dump
whose fingerprint equals a point's is an old Mole there; otherwise the nearest point (fewest
differences) says how far it diverged. The points are cached, keyed like the reference schema.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from schema.compare import compare
from schema.django_drift import drift_kind
from schema.django_drift import drift_summary
from schema.fingerprint import MOLE_APPS
from schema.fingerprint import app_tables
from schema.fingerprint import is_app_table
from schema.fingerprint import schema_fingerprint
from schema.model import FORMAT
from schema.model import Schema
from schema.model import Table
from schema.model import tables_from_json
from tooling.compliance.reference_schema import cached_by_migrations
from tooling.compliance.reference_schema import reference_snapshot
from tooling.errors import ToolingError
from tooling.server.backends import Backend
from tooling.server.database_facts import point_label
from tooling.settings import Settings


@dataclass(frozen=True)
class LineageStep:
    """One point of the history: each of Mole's apps at a migration (None: none of its yet),
    the fingerprint of the schema there, and Mole's tables then."""

    state: tuple[tuple[str, str | None], ...]  # (app, migration) for each of MOLE_APPS
    fingerprint: str
    tables: dict[str, Table]

    @property
    def migration(self) -> str:
        """The point as one label, `data_collection.0009_x + automation.0002_y` (the form of
        `database_facts.mole_head`); an app without a migration yet is left out."""
        return point_label(self.state)

    @property
    def targets(self) -> list[str]:
        """The `migrate` targets that put a database at this point (`automation.zero` for none)."""
        return [f"{app}.{name or 'zero'}" for app, name in self.state]

    @property
    def schema(self) -> Schema:
        """Mole's tables at this step, as a Schema."""
        return Schema("public", self.tables)


@dataclass(frozen=True)
class LineageMatch:
    """Where a schema sits in Mole's history: exactly at some migrations, or nearest to one."""

    fingerprint: str
    exact: str | None  # `data_collection.0005_x`, when the schema is exactly that migration's
    nearest: str | None
    distance: int  # differences from the nearest schema (0 when exact)
    nearest_differences: tuple[str, ...] = ()  # what differs from it, one line each
    same_schema: tuple[str, ...] = ()  # every migration with this schema (0005 and 0006 share one)
    # What Django's version alone explains of the differences from the nearest (schema.django_drift),
    # as `kind: count` lines; with `distance` 0 the dump is the nearest point made by another Django.
    drift: tuple[str, ...] = ()

    @property
    def made_by_older_django(self) -> bool:
        """True when the schema is a point of the history but for Django-version drift."""
        return not self.exact and bool(self.nearest) and not self.distance and bool(self.drift)

    def starting_point(self, recorded: str | None) -> str | None:
        """Where to record the dump as being: what it recorded itself, when that has its schema,
        else the earliest migration that has it (so that later data migrations still run)."""
        return recorded if recorded in self.same_schema else self.exact

    def describe(self) -> str:
        """One line for reports: the exact match, or the nearest and the distance."""
        if self.exact:
            return f"matches {self.exact} exactly (fingerprint {self.fingerprint})"
        if self.nearest and not self.distance:
            return (f"matches {self.nearest} made by another Django version (fingerprint "
                    f"{self.fingerprint}); Django-version drift: {'; '.join(self.drift)}")
        return (
            f"matches no migration (fingerprint {self.fingerprint}); nearest is {self.nearest}, "
            f"{self.distance} difference{'s' if self.distance != 1 else ''} away"
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (manifests and diff reports)."""
        return asdict(self)


def schema_lineage(backend: Backend, settings: Settings) -> list[LineageStep]:
    """The history from the first migration to the leaf; built once per set
    of migration files (`manage.py schema_lineage` on a scratch database), then cached.
    Raises ToolingError when the command prints something else than a lineage."""

    def build():
        with backend.admin.scratch_database("lineage") as scratch:
            result = backend.manage(["schema_lineage"], database=scratch, capture=True)
        try:
            found = json.loads(result.stdout)
            return {"format": FORMAT, "steps": found["steps"], "points": found["points"]}
        except (json.JSONDecodeError, KeyError) as error:
            raise ToolingError(f"`manage.py schema_lineage` printed something unexpected: {error}") from error

    lineage = cached_by_migrations(settings, "lineage", build, with_custom=False)
    tables_at = {
        (app, step["migration"]): tables_from_json(step["tables"])
        for app, steps in lineage["steps"].items() for step in steps
    }
    points = []
    for point in lineage["points"]:
        state = tuple((app, point.get(app)) for app in MOLE_APPS)
        tables = {name: table for app, migration in state if migration
                  for name, table in tables_at[(app, migration)].items()}
        points.append(LineageStep(state, schema_fingerprint(Schema("public", tables)), tables))
    return points


def match_lineage(steps: list[LineageStep], snapshot: Schema) -> LineageMatch:
    """The exact matches (earliest first), else the nearest schema and what differs from it."""
    fingerprint = schema_fingerprint(snapshot)
    same = tuple(step.migration for step in steps if step.fingerprint == fingerprint)
    if same:
        return LineageMatch(fingerprint, same[0], same[0], 0, same_schema=same)
    actual = app_tables(snapshot)
    nearest, nearest_fingerprint, differences, drifted = None, None, [], []
    for step in steps:
        found = compare(step.schema, actual)
        unexplained = [difference for difference in found if drift_kind(difference) is None]
        # Drift is no distance. Between divergent points the later one is nearer (the dump would
        # continue from there); between points it equals but for drift, and between points of one
        # schema (data_collection 0010 with automation 0001 or 0002), the earliest, so that every
        # later migration still runs (as for an exact match).
        tie = (len(unexplained) == len(differences) and bool(unexplained)
               and step.fingerprint != nearest_fingerprint)
        if nearest is None or len(unexplained) < len(differences) or tie:
            nearest, nearest_fingerprint, differences = step.migration, step.fingerprint, unexplained
            drifted = [difference for difference in found if drift_kind(difference) is not None]
    described = tuple(difference.describe() for difference in differences)
    return LineageMatch(fingerprint, None, nearest, len(differences), described, drift=drift_summary(drifted))


def point_of_record(steps: list[LineageStep], head: str | None, customs: set[str]) -> str | None:
    """The point of the history a recorded head (`mole_head`'s label) stands at: each app's last
    migration, a custom one (`customs`: `app.name` labels; they change no schema and are no points)
    replaced by the last migration of the history before it. None when there is no head, or it
    names a migration the history does not have."""
    if not head:
        return None
    state = []
    for part in head.split(" + "):
        app, name = part.split(".", 1)
        if part in customs:
            earlier = [migration for migration in app_history(steps, app) if migration < name]
            name = earlier[-1] if earlier else None
        state.append((app, name))
    recorded = dict(state)
    label = point_label((app, recorded.get(app)) for app in MOLE_APPS)
    return label if any(step.migration == label for step in steps) else None


def leaf_migration(steps: list[LineageStep]) -> str:
    """data_collection's last migration of the history (`data_collection.0010_x`), custom ones
    left out. Raises ToolingError when there is none."""
    leaf = dict(steps[-1].state).get("data_collection") if steps else None
    if not leaf:
        raise ToolingError("data_collection has no migrations")
    return f"data_collection.{leaf}"


def step_named(steps: list[LineageStep], label: str) -> LineageStep:
    """The point whose label is `label`. Raises ToolingError when the history has none."""
    found = next((step for step in steps if step.migration == label), None)
    if found is None:
        raise ToolingError(f"today's migration history has no point {label}")
    return found


def app_history(steps: list[LineageStep], app: str) -> list[str]:
    """`app`'s migrations in the order of its history (points come earliest first)."""
    return list(dict.fromkeys(dict(step.state)[app] for step in steps if dict(step.state)[app]))


def earliest_alike(steps: list[LineageStep], label: str) -> LineageStep:
    """The earliest point with the same schema as the point `label` (from there every later
    migration runs, a data migration that changed no schema included). Raises ToolingError when
    the history has no point `label`."""
    fingerprint = step_named(steps, label).fingerprint
    return next(step for step in steps if step.fingerprint == fingerprint)


def later_migrations(steps: list[LineageStep], step: LineageStep) -> tuple[str, ...]:
    """The migrations (`app.name`) the history has after `step`'s point, app by app."""
    later: list[str] = []
    for app, name in step.state:
        history = app_history(steps, app)
        after = history.index(name) + 1 if name else 0
        later += [f"{app}.{migration}" for migration in history[after:]]
    return tuple(later)


def migrations_through(steps: list[LineageStep], step: LineageStep) -> dict[str, list[str]]:
    """Each of Mole's apps' migrations up to and including `step`'s point, in order."""
    through = {}
    for app, name in step.state:
        history = app_history(steps, app)
        through[app] = history[: history.index(name) + 1] if name else []
    return through


def point_schema(backend: Backend, settings: Settings, step: LineageStep, present: Schema) -> Schema:
    """The whole public schema a database at `step` has: Mole's tables there, and Django's own
    tables as today's reference has them, those `present` has (a table Django's migrations will
    create, such as the admin's log in a Mole without the admin, is left to them)."""
    django_tables = {name: table for name, table in reference_snapshot(backend, settings).tables.items()
                     if not is_app_table(name) and name in present.tables}
    return Schema("public", {**django_tables, **step.tables})
