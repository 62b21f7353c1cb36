"""The custom (legacy) migrations already written, found by the fingerprint each declares.

Django's MigrationLoader reads them (`manage.py legacy_migrations`, inside the backend), so a
migration counts exactly when Django would run it; the host side never imports Django.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tooling.compliance.reference_schema import cached_by_migrations
from tooling.errors import MigrationNotFound
from tooling.errors import ToolingError
from tooling.server.backends import Backend
from tooling.settings import Settings

APP = "data_collection"


@dataclass(frozen=True)
class CustomMigration:
    """A custom migration: its `name` (`0011_legacy_x`), its file on this host, the fingerprint
    of the legacy schema it aligns, whether it was reviewed, its parent (`data_collection.0010_x`)
    and the point of the history its steps lead to (`ALIGNS_TO`; None: its parent's); or, for a
    data fix, the migration it runs right before (`RUNS_BEFORE`, `app.name`)."""

    name: str
    path: Path
    fingerprint: str
    reviewed: bool
    parent: str
    point: str | None = None
    runs_before: str | None = None

    @property
    def label(self) -> str:
        """`data_collection.<name>`, as `migrate` and reports name it."""
        return f"{APP}.{self.name}"


@dataclass(frozen=True)
class Registry:
    """Every data_collection migration's name, and the custom ones among them."""

    migrations: tuple[str, ...]
    custom: tuple[CustomMigration, ...]

    def for_fingerprint(self, fingerprint: str) -> CustomMigration | None:
        """The last alignment written for `fingerprint`, if any (data fixes are not alignments)."""
        matches = [m for m in self.custom if m.fingerprint == fingerprint and m.runs_before is None]
        return matches[-1] if matches else None

    @property
    def custom_labels(self) -> set[str]:
        """Every custom migration (alignments and data fixes) as `data_collection.name`."""
        return {migration.label for migration in self.custom}

    @property
    def leaf(self) -> str:
        """data_collection's last migration, custom ones included (`data_collection.0012_legacy_x`):
        a new custom migration follows it, so that the chain keeps one leaf. Raises ToolingError
        when there is none."""
        if not self.migrations:
            raise ToolingError(f"{APP} has no migrations")
        return f"{APP}.{self.migrations[-1]}"

    def fixes_for(self, fingerprint: str) -> list[CustomMigration]:
        """The data fixes written for `fingerprint`, in the order they were written."""
        return [m for m in self.custom if m.fingerprint == fingerprint and m.runs_before is not None]

    def named(self, name: str) -> CustomMigration:
        """`--migration`: `0011_legacy_x`, with or without `data_collection.` or `.py`.
        Raises MigrationNotFound when there is no such migration, or it is not a custom one, or it
        is a data fix."""
        stem = name.removeprefix(f"{APP}.").removesuffix(".py")
        if stem not in self.migrations:
            raise MigrationNotFound(f"no migration {stem!r} in {APP}'s migrations")
        found = next((m for m in self.custom if m.name == stem), None)
        if found is None:
            raise MigrationNotFound(
                f"{stem} is not a custom legacy migration (it declares no LEGACY_FINGERPRINT)"
            )
        if found.runs_before is not None:
            raise MigrationNotFound(
                f"{stem} is a data fix (it runs before {found.runs_before}), not an alignment: "
                "`invoke legacy` runs it on its own"
            )
        return found


def registry_of(backend: Backend, migrations_dir: Path) -> Registry:
    """The registry as Django loads it now; paths point into `migrations_dir`.

    Raises ToolingError (CommandFailed with manage.py's last line) when the migrations cannot be
    loaded, a draft that is not valid Python for example."""
    return registry_from(legacy_migrations(backend), migrations_dir)


def read_registry(backend: Backend, settings: Settings) -> Registry:
    """`registry_of`, cached like the lineage: it depends on the migration files alone, so it is
    asked of Django once per set of them (any edit, a review included, makes a new key)."""
    data = cached_by_migrations(settings, "registry", lambda: legacy_migrations(backend))
    return registry_from(data, settings.migrations_dir)


def legacy_migrations(backend: Backend) -> dict:
    """`manage.py legacy_migrations`'s JSON. Raises ToolingError when it prints something else."""
    result = backend.manage(["legacy_migrations"], capture=True)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise ToolingError(f"`manage.py legacy_migrations` printed something unexpected: {error}") from error


def registry_from(data: dict, migrations_dir: Path) -> Registry:
    """The registry from `manage.py legacy_migrations`'s JSON. Raises ToolingError for another shape."""
    try:
        custom = tuple(
            CustomMigration(item["name"], migrations_dir / f"{item['name']}.py", item["fingerprint"],
                            bool(item["reviewed"]), item["parent"], item.get("point"),
                            item.get("runs_before"))
            for item in data["custom"]
        )
        return Registry(tuple(data["migrations"]), custom)
    except (KeyError, TypeError) as error:
        raise ToolingError(f"`manage.py legacy_migrations` printed something unexpected: {error}") from error
