"""SQL about a server's databases, roles and sessions, with every name checked and quoted."""

from __future__ import annotations

from schema.quoting import literal
from tooling.names import safe_database


def name_literal(name: str) -> str:
    """A checked database or role name as a string constant (for `WHERE datname = ...`)."""
    return literal(safe_database(name))


def terminate_sessions_of(role: str) -> str:
    """The statement that ends every session of `role` (a load cut short may still run)."""
    return f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = {name_literal(role)}"


def role_exists_query(role: str) -> str:
    """A query printing 1 when `role` exists, else 0."""
    return f"SELECT count(*) FROM pg_roles WHERE rolname = {name_literal(role)}"
