"""Where a legacy schema sits in Mole's migration history.

The history defines schemas S1..Sn (one per data_collection migration). A dump
whose fingerprint equals some Sk is an old Mole at k; otherwise the nearest Sk
(fewest differences) says how far it diverged. The sequence is cached, keyed
like the reference schema.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from schema.compare import compare
from schema.fingerprint import app_tables
from schema.fingerprint import schema_fingerprint
from schema.model import FORMAT
from schema.model import Schema
from schema.model import Table
from schema.model import tables_from_json
from tooling.compliance.reference_schema import cached_by_migrations
from tooling.errors import ToolingError
from tooling.server.backends import Backend
from tooling.settings import Settings


@dataclass(frozen=True)
class LineageStep:
    """One point of the history: a migration (`data_collection.0005_x`), the fingerprint of the
    schema it leaves, and Mole's tables then."""

    migration: str
    fingerprint: str
    tables: dict[str, Table]

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

    def starting_point(self, recorded: str | None) -> str | None:
        """Where to record the dump as being: what it recorded itself, when that has its schema,
        else the earliest migration that has it (so that later data migrations still run)."""
        return recorded if recorded in self.same_schema else self.exact

    def describe(self) -> str:
        """One line for reports: the exact match, or the nearest and the distance."""
        if self.exact:
            return f"matches {self.exact} exactly (fingerprint {self.fingerprint})"
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
            return {"format": FORMAT, "steps": json.loads(result.stdout)["steps"]}
        except (json.JSONDecodeError, KeyError) as error:
            raise ToolingError(f"`manage.py schema_lineage` printed something unexpected: {error}") from error

    lineage = cached_by_migrations(settings, "lineage", build)
    return [
        LineageStep(step["migration"], step["fingerprint"], tables_from_json(step["tables"]))
        for step in lineage["steps"]
    ]


def match_lineage(steps: list[LineageStep], snapshot: Schema) -> LineageMatch:
    """The exact matches (earliest first), else the nearest schema and what differs from it."""
    fingerprint = schema_fingerprint(snapshot)
    same = tuple(step.migration for step in steps if step.fingerprint == fingerprint)
    if same:
        return LineageMatch(fingerprint, same[0], same[0], 0, same_schema=same)
    actual = app_tables(snapshot)
    nearest, differences = None, []
    for step in steps:
        found = compare(step.schema, actual)
        # On a tie the later migration is nearer: it is where the dump would continue from.
        if nearest is None or len(found) <= len(differences):
            nearest, differences = step.migration, found
    described = tuple(difference.describe() for difference in differences)
    return LineageMatch(fingerprint, None, nearest, len(differences), described)


def leaf_migration(steps: list[LineageStep]) -> str:
    """The last migration of the history. Raises ToolingError when there is none."""
    if not steps:
        raise ToolingError("data_collection has no migrations")
    return steps[-1].migration
