"""Load a legacy input into a database, streaming it through psql or pg_restore.

Either tool runs in one transaction and stops at the first error, so a dump
that fails to load leaves an empty database, never half of one.
"""

from __future__ import annotations

from .backends import Backend
from .legacy_input import CUSTOM
from .legacy_input import LegacyInput
from .legacy_input import Progress
from .legacy_input import file_chunks
from .legacy_input import sql_chunks


def load_dump(backend: Backend, legacy: LegacyInput, database: str, progress: Progress | None = None) -> None:
    """`legacy` is a plain, gzip or custom-format dump (archives are extracted first)."""
    if legacy.kind == CUSTOM:
        tool = "pg_restore"
        args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        chunks = file_chunks(legacy, progress)
    else:
        tool = "psql"
        args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
        chunks = sql_chunks(legacy, progress)
    backend.client(
        tool, [*args, f"--dbname={database}"], stdin_chunks=chunks, stdin_path=legacy.path, capture=True
    )
