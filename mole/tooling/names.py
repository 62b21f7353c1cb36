"""User-given names that become file or database names: checked before use."""
from __future__ import annotations

import re

from schema.quoting import identifier
from tooling.errors import UnsafeName

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SAFE_DATABASE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def safe_name(name: str, what: str = "name") -> str:
    """A file or folder name with no path in it: letters, digits, `.`, `_`, `-`."""
    if not SAFE_NAME.fullmatch(name) or ".." in name:
        raise UnsafeName(
            f"{what} {name!r} is not allowed: use letters, digits, '.', '_' and '-' "
            "(no '/', no '..', at most 100 characters)"
        )
    return name


def safe_database(name: str) -> str:
    """A PostgreSQL database name that needs no quoting and no care."""
    if not SAFE_DATABASE.fullmatch(name):
        raise UnsafeName(
            f"database name {name!r} is not allowed: use lowercase letters, digits and '_'"
        )
    return name


def quote_identifier(name: str) -> str:
    """A database or role name the tooling makes, checked (UnsafeName) and quoted."""
    return identifier(safe_database(name))
