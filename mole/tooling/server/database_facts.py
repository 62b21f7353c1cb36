"""Facts about a database that only Django can tell, fetched through any backend as JSON."""
from __future__ import annotations

import json
from typing import Any
from typing import Iterable
from typing import TypedDict

from schema.fingerprint import MOLE_APPS
from schema.model import Schema
from schema.model import UnknownSnapshotFormat
from schema.model import from_json
from tooling.errors import ToolingError
from tooling.server.backends import Backend


def _json_from_command(backend: Backend, args: list[str], database: str | None) -> dict[str, Any]:
    result = backend.manage(args, database=database, capture=True)
    if backend.runner.dry:
        return {}
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise ToolingError(f"`manage.py {args[0]}` printed something that is not JSON: {error}") from error


class MigrationState(TypedDict):
    """`manage.py migration_state`: `app.name` labels applied and unapplied, in plan order, and
    each app's leaf and last applied migration names, and the version of Django that read them."""

    django_version: str
    applied: list[str]
    unapplied: list[str]
    heads: dict[str, str]
    applied_heads: dict[str, str]


def migration_state(backend: Backend, database: str | None = None) -> MigrationState:
    """Applied and unapplied migrations, and each app's head."""
    return _json_from_command(backend, ["migration_state"], database)


def schema_snapshots(backend: Backend, database: str | None, schemas: tuple[str, ...]) -> dict[str, Schema]:
    """Each of `schemas` of the database, as `schema.catalog` reads it, in one Django start.
    Raises ToolingError when the command's output is not snapshots."""
    args = ["schema_snapshot"]
    for name in schemas:
        args += ["--schema", name]
    data = _json_from_command(backend, args, database)
    try:
        return {name: from_json(data[name]) for name in schemas}
    except (UnknownSnapshotFormat, KeyError, TypeError, ValueError) as error:
        raise ToolingError(f"`manage.py schema_snapshot` printed an unexpected snapshot: {error}") from error


def schema_snapshot(backend: Backend, database: str | None = None, schema: str = "public") -> Schema:
    """One schema of the database (public by default); see `schema_snapshots`."""
    return schema_snapshots(backend, database, (schema,))[schema]


def point_label(state: Iterable[tuple[str, str | None]]) -> str:
    """A point of Mole's history as one label, `data_collection.0009_x + automation.0002_y`:
    each app that has a migration, in MOLE_APPS order."""
    return " + ".join(f"{app}.{name}" for app, name in state if name)


def mole_head(state: MigrationState) -> str | None:
    """The last applied migration of each of Mole's apps, as a point label (what users mean by
    'head'); None when none is applied."""
    heads = state.get("applied_heads", {})
    return point_label((app, heads.get(app)) for app in MOLE_APPS) or None
