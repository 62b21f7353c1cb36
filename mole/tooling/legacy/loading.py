"""A legacy input loaded into a scratch database, ready to be compared or migrated.

The scratch database is dropped when the block ends, whatever ends it
(an error, Ctrl-C), unless the caller asks to keep it.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from schema.fingerprint import app_tables
from schema.model import Schema
from tooling.compliance.lineage import LineageMatch
from tooling.compliance.lineage import LineageStep
from tooling.compliance.lineage import match_lineage
from tooling.compliance.lineage import schema_lineage
from tooling.debris import work_folder
from tooling.errors import NotAMoleDatabase
from tooling.errors import ToolingError
from tooling.fault_injection import pause_point
from tooling.legacy.dump_loading import LoadReport
from tooling.legacy.dump_loading import load_dump
from tooling.legacy.inputs import MOLE_ARCHIVE
from tooling.legacy.inputs import LegacyInput
from tooling.legacy.inputs import Progress
from tooling.legacy.inputs import detect
from tooling.legacy.inputs import extract_archive
from tooling.server.backends import Backend
from tooling.server.database_facts import schema_snapshot
from tooling.settings import Settings


@dataclass(frozen=True)
class LoadedLegacy:
    """A legacy input loaded into a scratch database, with the snapshot of its schema and its
    place in Mole's history (`history` is that history, from the lineage cache)."""

    source: LegacyInput  # the file as given
    loaded: LegacyInput  # what was loaded: the file, or the SQL inside an archive
    database: str
    snapshot: Schema
    media: Path | None  # the archive's mole_media folder, extracted (gone after the block)
    load: LoadReport  # statements left out, the encoding the user named
    history: list[LineageStep]
    lineage: LineageMatch


@contextmanager
def loaded_legacy(
    backend: Backend,
    settings: Settings,
    path: Path,
    *,
    keep: bool = False,
    progress: Progress | None = None,
    source_encoding: str | None = None,
) -> Iterator[LoadedLegacy]:
    """Load `path` into a scratch database for the block (dropped after it unless `keep`).
    Raises NotADump, UnsafeDump, DumpTooNew, MissingExtension or NotAMoleDatabase before
    anything reaches beyond the scratch database."""
    source = detect(path)
    history = schema_lineage(backend, settings)  # built (once) before any scratch database exists
    work = work_folder(settings.data_dir)
    try:
        loadable, media = source, None
        if source.kind == MOLE_ARCHIVE:
            extracted = extract_archive(source, work)
            loadable, media = extracted.sql, extracted.media
        with backend.admin.scratch_database("legacy", keep=keep) as database:
            try:
                load = load_dump(backend, loadable, database, progress, source_encoding=source_encoding)
                snapshot = schema_snapshot(backend, database)
                pause_point("legacy-loaded")
                if not app_tables(snapshot).tables:
                    raise NotAMoleDatabase(
                        f"{path} loaded, but it is not a Mole database: it has no data_collection tables"
                    )
                lineage = match_lineage(history, snapshot)
                yield LoadedLegacy(source, loadable, database, snapshot, media, load, history, lineage)
            except ToolingError as error:
                if keep:
                    error.kept_database = database
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
