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

from dbtools.fingerprint import app_tables
from dbtools.fingerprint import schema_fingerprint
from dbtools.schema_diff import compare

from .backends import Backend
from .errors import ToolingError
from .reference_schema import cached_by_migrations
from .settings import Settings


@dataclass(frozen=True)
class LineageMatch:
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
        if self.exact:
            return f"matches {self.exact} exactly (fingerprint {self.fingerprint})"
        return (
            f"matches no migration (fingerprint {self.fingerprint}); nearest is {self.nearest}, "
            f"{self.distance} difference{'s' if self.distance != 1 else ''} away"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def schema_lineage(backend: Backend, settings: Settings) -> list[dict[str, Any]]:
    """[{migration, fingerprint, tables}, ...] from the first migration to the leaf."""

    def build():
        with backend.scratch_database("lineage") as scratch:
            result = backend.manage(["schema_lineage"], database=scratch, capture=True)
        if backend.runner.dry:
            return None
        try:
            return {"steps": json.loads(result.stdout)["steps"]}
        except (json.JSONDecodeError, KeyError) as error:
            raise ToolingError(f"`manage.py schema_lineage` printed something unexpected: {error}") from error

    lineage = cached_by_migrations(settings, "lineage", build)
    return lineage["steps"] if lineage else []


def match_lineage(steps: list[dict[str, Any]], snapshot: dict[str, Any]) -> LineageMatch:
    """The exact matches (earliest first), else the nearest schema and what differs from it."""
    fingerprint = schema_fingerprint(snapshot)
    same = tuple(step["migration"] for step in steps if step["fingerprint"] == fingerprint)
    if same:
        return LineageMatch(fingerprint, same[0], same[0], 0, same_schema=same)
    actual = {"tables": app_tables(snapshot)}
    nearest, differences = None, []
    for step in steps:
        found = compare({"tables": step["tables"]}, actual)
        # On a tie the later migration is nearer: it is where the dump would continue from.
        if nearest is None or len(found) <= len(differences):
            nearest, differences = step["migration"], found
    described = tuple(difference.describe() for difference in differences)
    return LineageMatch(fingerprint, None, nearest, len(differences), described)


def leaf_migration(steps: list[dict[str, Any]]) -> str:
    if not steps:
        raise ToolingError("data_collection has no migrations")
    return steps[-1]["migration"]
