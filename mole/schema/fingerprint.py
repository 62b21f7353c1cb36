"""A stable name for Mole's schema: the hash of its normalized structure.

Custom legacy migrations declare fingerprints made by this algorithm, so any change needs a
new version (and its custom migrations made anew). Version 2:
1. keep the tables of Mole's own apps, `data_collection_*` and `automation_*` (Django's own
   tables follow Django's versions, not Mole's);
2. per table: each column's type text, nullability, default (a serial's as `nextval(<sequence>)`),
   identity and generated flag, without its position; each constraint as `<contype> <definition>`
   and each index as its definition, both sorted; no names of constraints, indexes or sequences;
3. JSON with sorted keys and no spaces, SHA-256, the first 16 hex digits.
So the same schema restored from another dump gets the same fingerprint.
Version 1 was the same over `data_collection_*` alone (the stand-in model had no second app).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .compare import column_property
from .model import Schema

FINGERPRINT_VERSION = 2
# Mole's own apps, in the order their migrations are named in reports.
MOLE_APPS = ("data_collection", "automation")
FINGERPRINT_CHARS = 16
COLUMN_PROPERTIES = ("type", "nullable", "default", "identity", "generated")


def app_of(table: str) -> str | None:
    """The Mole app whose table `table` is (`data_collection_pose`: data_collection), or None."""
    return next((app for app in MOLE_APPS if table.startswith(f"{app}_")), None)


def is_app_table(name: str) -> bool:
    """True for Mole's own tables (`data_collection_*`, `automation_*`), the ones the fingerprint covers."""
    return app_of(name) is not None


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
