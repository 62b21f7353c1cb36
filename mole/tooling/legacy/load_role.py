"""The role an untrusted dump runs as: it owns the scratch database and nothing else.

It is not a superuser and may not create roles or databases, so whatever a dump's
SQL says, it cannot reach roles, other databases, server settings or server files
(`COPY ... PROGRAM`, `pg_read_file`, `lo_import` need rights it lacks; PostgreSQL
docs, "Predefined Roles"). After the load its objects are handed to the tooling's
user and the role is dropped, so no role outlives the load.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from tooling.debris import load_role_name
from tooling.debris import marker_comment
from tooling.names import quote_identifier
from tooling.server.backends import Backend
from tooling.server.server_sql import role_exists_query
from tooling.server.server_sql import terminate_sessions_of

SCRAM_ITERATIONS = 4096
# INHERIT: its one membership is pg_database_owner's, which owns `public`; before PostgreSQL 16 a
# NOINHERIT owner could not create there (docs, "Predefined Roles", "Role Membership").
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"


@dataclass(frozen=True)
class LoadRole:
    """A login role; `password` only where the server asks for one (the url backend)."""

    name: str
    password: str | None = None


@contextmanager
def owning_role(backend: Backend, database: str) -> Iterator[LoadRole]:
    """A new role that owns `database`; afterwards the tooling's user owns it all again."""
    role = LoadRole(load_role_name(),
                    secrets.token_urlsafe(24) if backend.role_needs_password else None)
    attributes = ROLE_ATTRIBUTES
    if role.password:
        # Only the SCRAM verifier reaches the server (and any statement log), never the password.
        verifier = scram_verifier(role.password)
        attributes += f" PASSWORD '{verifier}'"
    try:
        backend.tools.statements([
            f"CREATE ROLE {quote_identifier(role.name)} {attributes}",
            marker_comment("ROLE", role.name),
            # A tooling user that is no superuser (the url backend) must be a member of a role to
            # give it a database and take it back (PostgreSQL 16+: CREATEROLE alone does not make one).
            f"GRANT {quote_identifier(role.name)} TO CURRENT_USER",
            f"ALTER DATABASE {quote_identifier(database)} OWNER TO {quote_identifier(role.name)}",
        ])
        yield role
    finally:
        retire(backend, database, role.name)


def retire(backend: Backend, database: str, role: str) -> None:
    """Give what `role` made in `database` to the tooling's user, then drop the role.

    First, from outside, undo what an owner may do to its database (settings, connection
    limits), whatever the dump tried: the database must be as the tooling made it.
    """
    name = quote_identifier(database)
    exists = backend.tools.value(role_exists_query(role)) == "1"
    if not exists:
        return
    backend.tools.statements([
        # A load cut short may still be running on the server: end it, or it holds its locks.
        terminate_sessions_of(role),
        f"ALTER DATABASE {name} OWNER TO CURRENT_USER",
        f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true CONNECTION LIMIT -1 IS_TEMPLATE false",
        f"ALTER DATABASE {name} RESET ALL",
    ])
    backend.tools.statements([
        f"REASSIGN OWNED BY {quote_identifier(role)} TO CURRENT_USER",
        f"DROP OWNED BY {quote_identifier(role)}",
    ], database=database)
    backend.tools.statements([f"DROP ROLE IF EXISTS {quote_identifier(role)}"])


def reset_defaults(backend: Backend, database: str, role: str) -> None:
    """From outside, undo the defaults a script may have given its role and database (ALTER ROLE
    or ALTER DATABASE ... SET or CONNECTION LIMIT, run by one of its functions): another session
    of `role` must start as the first one did, on a fresh role and database."""
    name, user = quote_identifier(database), quote_identifier(role)
    backend.tools.statements([
        f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true CONNECTION LIMIT -1",
        f"ALTER DATABASE {name} RESET ALL",
        f"ALTER ROLE {user} RESET ALL",
        f"ALTER ROLE {user} IN DATABASE {name} RESET ALL",
    ])


def scram_verifier(password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 7677; PostgreSQL docs,
    "Password Authentication"): given it in CREATE ROLE ... PASSWORD, the server keeps it as is.

    `password` must be ASCII (SASLprep leaves ASCII unchanged); ours are `secrets.token_urlsafe`.
    """
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("ascii"), salt, SCRAM_ITERATIONS)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def encoded(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{encoded(salt)}${encoded(stored_key)}:{encoded(server_key)}"
