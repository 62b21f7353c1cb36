"""A legacy input loaded into a scratch database, ready to be compared or migrated.

The scratch database is dropped when the block ends, whatever ends it
(an error, Ctrl-C), unless the caller asks to keep it.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Iterator

from dbtools.fingerprint import app_tables

from .backends import Backend
from .database_facts import schema_snapshot
from .dump_loading import load_dump
from .errors import DumpTooNew
from .errors import NotAMoleDatabase
from .errors import ToolingError
from .legacy_input import MOLE_ARCHIVE
from .legacy_input import LegacyInput
from .legacy_input import Progress
from .legacy_input import detect
from .legacy_input import extract_archive
from .settings import Settings


@dataclass(frozen=True)
class LoadedLegacy:
    source: LegacyInput  # the file as given
    loaded: LegacyInput  # what was loaded: the file, or the SQL inside an archive
    database: str
    snapshot: dict[str, Any]
    media: Path | None  # the archive's mole_media folder, extracted (gone after the block)


@contextmanager
def loaded_legacy(
    backend: Backend,
    settings: Settings,
    path: Path,
    *,
    keep: bool = False,
    progress: Progress | None = None,
) -> Iterator[LoadedLegacy]:
    if backend.runner.dry:
        raise ToolingError("--dry is not supported here: what runs depends on the loaded dump")
    source = detect(path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="legacy-", dir=settings.data_dir) as work:
        loadable, media = source, None
        if source.kind == MOLE_ARCHIVE:
            extracted = extract_archive(source, Path(work))
            loadable, media = extracted.sql, extracted.media
        refuse_newer_dump(backend, loadable)
        with backend.scratch_database("legacy", keep=keep) as database:
            load_dump(backend, loadable, database, progress)
            snapshot = schema_snapshot(backend, database)
            if not app_tables(snapshot):
                raise NotAMoleDatabase(
                    f"{path} loaded, but it is not a Mole database: it has no data_collection tables"
                )
            yield LoadedLegacy(source, loadable, database, snapshot, media)


def refuse_newer_dump(backend: Backend, legacy: LegacyInput) -> None:
    """SQL from a newer pg_dump may use what this server does not know: say so before loading."""
    if not legacy.dumped_by:
        return
    server = backend.server_version()
    if major(legacy.dumped_by) > major(server):
        raise DumpTooNew(
            f"{legacy.path.name} was made by pg_dump {legacy.dumped_by}, newer than this server "
            f"(PostgreSQL {server}): load it into a server at least as new as the dump"
        )


def major(version: str) -> int:
    digits = version.split(".")[0].split()[0]
    return int(digits) if digits.isdigit() else 0
