"""The reference schema: a fresh database migrated to the current head.

Building it takes a full `migrate`, so its snapshot is cached, keyed by the
migration files and the pinned requirements (which fix Django's own migrations).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any
from typing import Callable

from schema.fingerprint import is_app_table
from schema.model import FORMAT
from schema.model import Schema
from schema.model import Table
from schema.model import from_json
from schema.model import to_json
from tooling.debris import partial_path
from tooling.server.backends import Backend
from tooling.server.database_facts import schema_snapshot
from tooling.server.django_commands import migrate
from tooling.settings import Settings


def migrations_key(settings: Settings) -> str:
    """16 hex digits of the migration files, the pinned requirements and the snapshot format."""
    digest = hashlib.sha256(f"snapshot format {FORMAT}".encode())
    files = sorted(settings.migrations_dir.glob("*.py"))
    files.append(settings.project_dir / "requirements.txt")
    for path in files:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cached_by_migrations(settings: Settings, kind: str, build: Callable[[], Any]) -> Any:
    """JSON built once per set of migration files."""
    cached = settings.cache_dir / f"{kind}-{migrations_key(settings)}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    value = build()
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(cached)
    partial.write_text(json.dumps(value, sort_keys=True))
    partial.replace(cached)
    return value


def snapshot_at(reference: Schema, step_tables: dict[str, Table]) -> Schema:
    """Today's reference with Mole's own tables as they were at a lineage step: the schema a
    database migrated to that step has (Django's tables follow the pinned Django, not the step)."""
    return reference.only(lambda name: not is_app_table(name)).with_tables(step_tables)


def reference_snapshot(backend: Backend, settings: Settings) -> Schema:
    """The schema of a fresh database migrated to the head; cached."""

    def build():
        with backend.admin.scratch_database("reference") as scratch:
            migrate(backend, scratch)
            snapshot = schema_snapshot(backend, scratch)
        return to_json(snapshot)

    return from_json(cached_by_migrations(settings, "reference", build))
