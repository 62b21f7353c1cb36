"""The reference schema: a fresh database migrated to the current head.

Building it takes a full `migrate`, so its snapshot is cached, keyed by the
migration files and the pinned requirements (which fix Django's own migrations).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any
from typing import Callable

from schema.custom_migration import FINGERPRINT_NAME
from schema.fingerprint import MOLE_APPS
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

CUSTOM_MARK = f"\n{FINGERPRINT_NAME} = ".encode()  # how a custom migration's module declares itself


def migrations_key(settings: Settings, *, with_custom: bool = True) -> str:
    """16 hex digits of Mole's apps' migration files, the pinned requirements and the snapshot
    format; without custom (legacy) migrations when `with_custom` is False (they change no schema,
    so a draft written or reviewed does not make the reference or the lineage be built again)."""
    digest = hashlib.sha256(f"snapshot format {FORMAT}".encode())
    apps = settings.migrations_dir.parent.parent
    # Named the same wherever the checkout is: the key must not change with the folder.
    files = [(f"{app}/{path.name}", path) for app in MOLE_APPS
             for path in sorted((apps / app / "migrations").glob("*.py"))]
    files.append(("requirements.txt", settings.project_dir / "requirements.txt"))
    for name, path in files:
        if not path.exists():
            continue
        data = path.read_bytes()
        if not with_custom and CUSTOM_MARK in data:
            continue
        digest.update(name.encode())
        digest.update(data)
    return digest.hexdigest()[:16]


def cached_by_migrations(
    settings: Settings, kind: str, build: Callable[[], Any], *, with_custom: bool = True
) -> Any:
    """JSON built once per set of migration files (`migrations_key`)."""
    cached = settings.cache_dir / f"{kind}-{migrations_key(settings, with_custom=with_custom)}.json"
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

    return from_json(cached_by_migrations(settings, "reference", build, with_custom=False))
