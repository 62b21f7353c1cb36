"""Write a draft custom migration for a loaded legacy dump into the migrations folder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from schema.custom_migration import NAME_PREFIX
from schema.custom_migration import Step
from schema.data_fixes import fix_steps
from schema.operations import raise_exception
from schema.planner import AlignmentPlanner
from schema.writer import next_migration_name
from schema.writer import render_migration
from schema.writer import steps_of
from tooling.compliance.lineage import earliest_alike
from tooling.compliance.lineage import point_schema
from tooling.errors import ToolingError
from tooling.errors import UnsafeName
from tooling.legacy.data_fixes import Rehearsal
from tooling.legacy.loading import LoadedLegacy
from tooling.legacy.registry import Registry
from tooling.legacy.registry import read_registry
from tooling.server.backends import Backend
from tooling.settings import Settings

MIGRATION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,50}$")


@dataclass(frozen=True)
class Draft:
    """A custom migration drafted for review: its file and its steps."""

    path: Path
    steps: list[Step]

    @property
    def reviews(self) -> list[str]:
        """The REVIEW notes, one per step that needs a person's decision."""
        return [step.review for step in self.steps if step.review]


def migration_name(name: str) -> str:
    """A Python module name: the draft must be importable as a migration."""
    name = name.lower().replace("-", "_")
    if not name.startswith(NAME_PREFIX):
        name = f"{NAME_PREFIX}{name}"
    if not MIGRATION_NAME.fullmatch(name):
        raise UnsafeName(f"migration name {name!r} is not allowed: use lowercase letters, digits and '_'")
    return name


def write_draft(
    backend: Backend,
    settings: Settings,
    loaded: LoadedLegacy,
    name: str,
) -> Draft:
    """Plan the operations from the loaded dump to the schema of its nearest point of Mole's
    history (counting on its data; the earliest point with that schema, so that every later
    migration still runs on it) and write them as a migration after the last one of the history
    (`ALIGNS_TO` names the point), numbered after every migration Django loads. Raises
    ToolingError when nothing differs or the file cannot be written, UnsafeName for a bad `name`."""

    def count(query: str) -> int:
        return int(backend.tools.query(query, database=loaded.database).stdout.strip() or 0)

    lineage = loaded.lineage
    registry = read_registry(backend, settings)
    point = earliest_alike(loaded.history, lineage.nearest)
    expected = point_schema(backend, settings, point, loaded.snapshot)
    planner = AlignmentPlanner(expected, loaded.snapshot, count)
    steps = steps_of(planner.plan())
    if not steps:
        raise ToolingError(f"nothing to draft: the dump's schema already equals Mole's at {point.migration}")
    text = render_migration(
        fingerprint=lineage.fingerprint,
        parent=registry.leaf,
        point=point.migration,
        steps=steps,
        source=loaded.source.path.name,
        lineage=lineage.describe(),
    )
    return written(registry, settings, name, text, steps)


def write_data_fix(
    backend: Backend, settings: Settings, loaded: LoadedLegacy, name: str, rehearsal: Rehearsal
) -> Draft:
    """Write a data fix for review from a rehearsal of the migration the old rows broke: it runs
    right before that migration (`RUNS_BEFORE`), for the dump's fingerprint. A failure with no
    rule the rows can be measured against gets one step to write by hand. Raises ToolingError
    when the file cannot be written, UnsafeName for a bad `name`."""
    steps = fix_steps(list(rehearsal.requirements), rehearsal.migration)
    if not steps:
        message = (f"{rehearsal.migration}: {rehearsal.operation} fails ({rehearsal.error}); "
                   "write the fix by hand")
        steps = [Step(message, forward=raise_exception(message), reverse="SELECT 1", review=message)]
    registry = read_registry(backend, settings)
    text = render_migration(
        fingerprint=loaded.lineage.fingerprint,
        parent=registry.leaf,
        runs_before=rehearsal.migration,
        steps=steps,
        source=loaded.source.path.name,
        lineage=loaded.lineage.describe(),
    )
    return written(registry, settings, f"{name}_data", text, steps)


def written(registry: Registry, settings: Settings, name: str, text: str, steps: list[Step]) -> Draft:
    """The draft `text` written as the next migration called `name`, after every one of `registry`."""
    path = settings.migrations_dir / f"{next_migration_name(registry.migrations, migration_name(name))}.py"
    try:
        with path.open("x") as stream:
            stream.write(text)
    except OSError as error:
        raise ToolingError(f"cannot write the draft {path}: {error.strerror}") from error
    return Draft(path, steps)
