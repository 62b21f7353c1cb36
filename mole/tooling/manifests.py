"""The JSON manifests of backups and bundles: their format version, their JSON Schema, reading and
writing them, and their timestamps.

`manifest_version` 2 is the first written with the field; a manifest without it is version 1
(written before versions existed), whose fields version 2 kept, so it is read as it is. A manifest
that is not JSON, is from a newer version, or lacks what its kind requires is refused in one line
(ManifestInvalid), never half-read.
"""

from __future__ import annotations

import json
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Any

from tooling.errors import ManifestInvalid

MANIFEST_VERSION = 2
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # ISO 8601 in UTC, to the second
TIMESTAMP_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
Manifest = dict[str, Any]

_COMMON = {
    "manifest_version": {"type": "integer", "minimum": 1},
    "name": {"type": "string", "minLength": 1},
    "created_utc": {"type": "string", "pattern": TIMESTAMP_PATTERN},
    "migration_head": {"type": ["string", "null"]},
}
BACKUP_SCHEMA = {
    "type": "object",
    "required": ["name", "created_utc", "file", "format", "sha256", "size_bytes", "migration_head"],
    "properties": {
        **_COMMON,
        "file": {"type": "string"},
        "format": {"type": "string"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "size_bytes": {"type": "integer", "minimum": 0},
    },
}
BUNDLE_SCHEMA = {
    "type": "object",
    "required": ["name", "created_utc", "files", "source", "migration_head", "migrated_dump", "verification"],
    "properties": {
        **_COMMON,
        "files": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
        "source": {
            "type": "object",
            "required": ["file", "format", "size_bytes"],
            "properties": {
                "file": {"type": "string", "minLength": 1},
                "format": {"type": "string"},
                "size_bytes": {"type": "integer", "minimum": 0},
                "dumped_by_pg_dump": {"type": ["string", "null"]},
            },
        },
        "migrated_dump": {
            "type": "object",
            "required": ["file", "format"],
            "properties": {"file": {"type": "string", "minLength": 1}, "format": {"type": "string"}},
        },
        "verification": {
            "type": "object",
            "required": ["ok", "checks"],
            "properties": {"ok": {"type": "boolean"}, "checks": {"type": "object"}},
        },
        "custom_migration": {"type": ["string", "null"]},
        "started_from": {"type": ["string", "null"]},
    },
}
SCHEMAS = {"backup": BACKUP_SCHEMA, "bundle": BUNDLE_SCHEMA}


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


def utc_timestamp(moment: datetime | None = None) -> str:
    """`2026-11-30T16:12:40Z`: the form of `created_utc`."""
    return (moment or utc_now()).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """The aware datetime of a `created_utc` value. Raises ValueError for any other form."""
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)


def versioned(manifest: Manifest) -> Manifest:
    """`manifest` with this code's `manifest_version`, ready to be written."""
    return {**manifest, "manifest_version": MANIFEST_VERSION}


def manifest_text(manifest: Manifest) -> str:
    """The file's text: indented JSON with sorted keys, one newline at the end."""
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def check_manifest(manifest: Any, kind: str, owner: str) -> Manifest:
    """`manifest` if it is a valid manifest of `kind` ("backup" or "bundle"), else ManifestInvalid
    naming `owner` (e.g. `backup 20261130T161240Z_x`) and the first problem found."""
    if not isinstance(manifest, dict):
        raise ManifestInvalid(f"the manifest of {owner} is not a JSON object", owner=owner)
    version = manifest.get("manifest_version", 1)
    if isinstance(version, int) and version > MANIFEST_VERSION:
        raise ManifestInvalid(
            f"the manifest of {owner} has format version {version}; this tooling reads up to "
            f"{MANIFEST_VERSION}: use a newer Mole tooling",
            owner=owner,
        )
    import jsonschema  # here, not at the top: 0.2 s that tasks reading no manifest need not pay

    validator = jsonschema.Draft202012Validator(SCHEMAS[kind])
    error = jsonschema.exceptions.best_match(validator.iter_errors(manifest))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "top level"
        raise ManifestInvalid(f"the manifest of {owner} is malformed ({where}): {error.message}", owner=owner)
    return manifest


def read_manifest(path: Path, kind: str, owner: str) -> Manifest:
    """The checked manifest at `path`. Raises ManifestInvalid when it cannot be read or is invalid."""
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestInvalid(f"the manifest of {owner} cannot be read: {error}", owner=owner) from error
    return check_manifest(manifest, kind, owner)
