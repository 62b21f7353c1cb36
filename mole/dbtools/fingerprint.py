"""A stable name for a data_collection schema: the hash of its normalized structure.

Names of constraints, indexes and sequences and column order are left out, so
the same schema made by another Django version or restored from another dump
gets the same fingerprint. Custom legacy migrations declare the fingerprint
they handle, so this function must not change lightly.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

APP_TABLE_PREFIX = "data_collection_"
FINGERPRINT_CHARS = 16


def app_tables(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Only Mole's own tables: Django's tables follow Django's versions, not Mole's."""
    return {name: table for name, table in snapshot["tables"].items() if name.startswith(APP_TABLE_PREFIX)}


def normalized(snapshot: dict[str, Any]) -> dict[str, Any]:
    result = {}
    for name, table in app_tables(snapshot).items():
        columns = {
            column: {key: value for key, value in props.items() if key != "position"}
            for column, props in table["columns"].items()
        }
        constraints = sorted(f"{item['type']} {item['definition']}" for item in table["constraints"])
        indexes = sorted(item["definition"] for item in table["indexes"])
        result[name] = {"columns": columns, "constraints": constraints, "indexes": indexes}
    return result


def schema_fingerprint(snapshot: dict[str, Any]) -> str:
    text = json.dumps(normalized(snapshot), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_CHARS]
