"""Database URLs (`postgresql://user@host:5432/mole?sslmode=require`), read by libpq's own parser
(psycopg2's `parse_dsn`), with every parameter kept.

Both sides use this module: the url backend turns a URL into libpq's environment variables for
psql, pg_dump and manage.py, and Mole's settings turn DATABASE_URL into Django's DATABASES entry.
The parameters and their variables are libpq's (PostgreSQL docs, 32.1.2 "Parameter Key Words"
and 32.15 "Environment Variables").
"""

from __future__ import annotations

import re

from psycopg2 import ProgrammingError
from psycopg2.extensions import parse_dsn

SCHEMES = ("postgresql://", "postgres://")
ENVIRONMENT_OF = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE",
    "user": "PGUSER", "password": "PGPASSWORD", "passfile": "PGPASSFILE", "service": "PGSERVICE",
    "options": "PGOPTIONS", "application_name": "PGAPPNAME", "client_encoding": "PGCLIENTENCODING",
    "connect_timeout": "PGCONNECT_TIMEOUT", "channel_binding": "PGCHANNELBINDING",
    "require_auth": "PGREQUIREAUTH", "sslmode": "PGSSLMODE", "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcompression": "PGSSLCOMPRESSION", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
    "sslcertmode": "PGSSLCERTMODE", "sslrootcert": "PGSSLROOTCERT", "sslcrl": "PGSSLCRL",
    "sslcrldir": "PGSSLCRLDIR", "sslsni": "PGSSLSNI", "requirepeer": "PGREQUIREPEER",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION", "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME", "gsslib": "PGGSSLIB", "gssdelegation": "PGGSSDELEGATION",
    "target_session_attrs": "PGTARGETSESSIONATTRS", "load_balance_hosts": "PGLOADBALANCEHOSTS",
}
DEFAULT_PORT = "5432"
QUOTED = re.compile(r'"[^"]*"?')


class InvalidDatabaseUrl(ValueError):
    """A URL libpq cannot read, or one whose parameters cannot all be kept. The message never
    holds the URL (it may hold a password)."""


def parse_database_url(url: str) -> dict[str, str]:
    """libpq's parameters of `url` by key word (`host`, `port`, `dbname`, `sslmode`, ...).

    Raises InvalidDatabaseUrl for another scheme, a URL libpq rejects, a port that is no number,
    or a parameter no libpq environment variable can carry (the tools get them that way)."""
    if not url.startswith(SCHEMES):
        raise InvalidDatabaseUrl("it does not start with postgresql://")
    try:
        parameters = parse_dsn(url)
    except ProgrammingError as error:
        # libpq quotes what it could not read (the URL, or a part of it such as a password): keep
        # its reason, never a quoted part.
        reason = str(error).removeprefix("invalid dsn: ").strip().split(' in URI: "')[0]
        raise InvalidDatabaseUrl(QUOTED.sub('"…"', reason)) from None
    port = parameters.get("port", "")
    if port and not all(part.isdigit() for part in port.split(",")):
        raise InvalidDatabaseUrl(f"its port {port!r} is not a number")
    unknown = sorted(set(parameters) - set(ENVIRONMENT_OF))
    if unknown:
        raise InvalidDatabaseUrl(f"libpq has no environment variable for its parameter {', '.join(unknown)}")
    return parameters


def libpq_environment(parameters: dict[str, str]) -> dict[str, str]:
    """The PG* variables that carry `parameters` (the password in PGPASSWORD, never in argv)."""
    return {ENVIRONMENT_OF[key]: value for key, value in parameters.items()}
