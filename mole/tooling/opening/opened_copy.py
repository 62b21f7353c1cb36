"""The database `invoke open` shows: a copy of a bundle's or backup's dump, never the live database.

The copy is restored once and reused by later opens while nothing it came
from has changed: the database's comment records the dump's sha256 and the
migration files it was migrated with.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from tooling.backups.backup_store import Backup
from tooling.backups.database_backup import load_dump_as
from tooling.compliance.reference_schema import migrations_key
from tooling.legacy.bundle_store import MIGRATED_DUMP
from tooling.legacy.bundle_store import Bundle
from tooling.names import quote_identifier
from tooling.names import safe_database
from tooling.names import safe_name
from tooling.server.backends import Backend
from tooling.server.django_commands import migrate
from tooling.settings import Settings

COPY_PREFIX = "mole_open_"
BUNDLE_MEDIA = "mole_media"


@dataclass(frozen=True)
class OpenedSource:
    """What is opened: a checked dump, and the words the banner uses for it."""

    kind: str
    name: str
    dump: Path
    sha256: str
    media: Path | None
    banner: str


def bundle_source(bundle: Bundle) -> OpenedSource:
    """What `open --bundle` serves: the migrated dump (checksums verified first). Raises ChecksumMismatch."""
    bundle.verify_checksums()
    media = bundle.folder / BUNDLE_MEDIA
    original = bundle.manifest.get("source", {}).get("file", "")
    origin = f", migrated from {original}" if original else ""
    return OpenedSource(
        kind="bundle",
        name=bundle.name,
        dump=bundle.migrated_dump,
        sha256=bundle.manifest["files"][MIGRATED_DUMP],
        media=media if media.is_dir() else None,
        banner=f"Legacy experiment: bundle {bundle.name}{origin}",
    )


def backup_source(backup: Backup) -> OpenedSource:
    """What `open --backup` serves: the backup's dump (checksum verified first). Raises ChecksumMismatch."""
    backup.verify_checksum()
    head = backup.manifest.get("migration_head") or "no migrations"
    return OpenedSource(
        kind="backup",
        name=backup.name,
        dump=backup.dump,
        sha256=backup.manifest["sha256"],
        media=None,
        banner=f"Legacy experiment: backup {backup.name}, taken at {head}",
    )


def copy_database_name(kind: str, name: str) -> str:
    """Readable, unique per source, and a plain PostgreSQL name whatever the bundle is called."""
    slug = re.sub(r"[^a-z0-9]+", "_", safe_name(name).lower()).strip("_")[:20]
    tag = hashlib.sha256(f"{kind}/{name}".encode()).hexdigest()[:8]
    return safe_database(f"{COPY_PREFIX}{kind}_{slug}_{tag}")


def copy_marker(source: OpenedSource, settings: Settings) -> str:
    """The COMMENT that says which dump (by sha256) and migrations a kept copy was made from."""
    return (
        f"invoke open copy of {source.kind} {source.name}: "
        f"sha256 {source.sha256}, migrations {migrations_key(settings)}"
    )


def prepare_copy(backend: Backend, settings: Settings, source: OpenedSource) -> tuple[str, bool]:
    """The copy's database name, and whether it was restored now (False: an unchanged copy is reused)."""
    database = copy_database_name(source.kind, source.name)
    marker = copy_marker(source, settings)
    if not backend.runner.dry and copy_comments(backend).get(database) == marker:
        return database, False
    load_dump_as(backend, source.dump, database)
    # A bundle made before newer migrations is brought to today's head; only the copy changes.
    migrate(backend, database)
    quoted_marker = marker.replace("'", "''")
    backend.tools.statements([f"COMMENT ON DATABASE {quote_identifier(database)} IS '{quoted_marker}'"])
    return database, True


def kept_copies(backend: Backend) -> list[tuple[str, str]]:
    """(database, what it is a copy of) for every copy `open` keeps on this server."""
    return [(database, copy_description(comment)) for database, comment in copy_comments(backend).items()]


def copy_description(comment: str) -> str:
    """How `status` describes a kept copy, from its COMMENT."""
    if not comment:
        return "an unfinished restore: the next `invoke open` restores it"
    return comment.removeprefix("invoke open copy of ").partition(":")[0] + "; `invoke open` reuses it"


def copy_comments(backend: Backend) -> dict[str, str]:
    """Each copy's database comment (its marker), by name; staging databases left out."""
    query = (
        "SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
        f"WHERE datname LIKE '{COPY_PREFIX}%' AND datname NOT LIKE '%\\_\\_%' ORDER BY datname"
    )
    rows = (line.partition("|") for line in backend.tools.query(query).stdout.splitlines())
    return {database: comment for database, _, comment in rows}
