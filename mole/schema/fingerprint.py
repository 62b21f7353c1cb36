"""A stable name for Mole's schema: the hash of its normalized structure.

Algorithm, version 1 (custom legacy migrations declare fingerprints made by it, so any change
needs a new version and a way for old migrations to keep matching):
1. keep the tables whose names start with `data_collection_` (Django's own tables follow Django's
   versions, not Mole's);
2. per table: each column's type text, nullability, default (a serial's as `nextval(<sequence>)`),
   identity and generated flag, without its position; each constraint as `<contype> <definition>`
   and each index as its definition, both sorted; no names of constraints, indexes or sequences;
3. JSON with sorted keys and no spaces, SHA-256, the first 16 hex digits.
So the same schema made by another Django version or restored from another dump gets the same
fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .compare import column_property
from .model import Schema

FINGERPRINT_VERSION = 1
APP_TABLE_PREFIX = "data_collection_"
FINGERPRINT_CHARS = 16
COLUMN_PROPERTIES = ("type", "nullable", "default", "identity", "generated")


def is_app_table(name: str) -> bool:
    """True for Mole's own tables (`data_collection_*`), the ones the fingerprint covers."""
    return name.startswith(APP_TABLE_PREFIX)


def app_tables(schema: Schema) -> Schema:
    """Only Mole's own tables."""
    return schema.only(is_app_table)


def normalized(schema: Schema) -> dict[str, Any]:
    """The structure the fingerprint hashes (step 2 of the module docstring), as plain data."""
    result = {}
    for name, table in app_tables(schema).tables.items():
        columns = {
            column.name: {prop: column_property(column, prop) for prop in COLUMN_PROPERTIES}
            for column in table.columns.values()
        }
        constraints = sorted(f"{c.kind.value} {c.definition}" for c in table.constraints)
        indexes = sorted(index.definition for index in table.indexes)
        result[name] = {"columns": columns, "constraints": constraints, "indexes": indexes}
    return result


def schema_fingerprint(schema: Schema) -> str:
    """16 hex digits (see the module docstring for the algorithm)."""
    text = json.dumps(normalized(schema), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_CHARS]
