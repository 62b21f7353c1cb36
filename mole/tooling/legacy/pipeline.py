"""`invoke legacy`: from an old experiment's dump to a verified bundle, or to a draft to review.

Every step works on a scratch database loaded from the dump; the live database
and existing backups are never touched. The steps report typed events
(`tooling.legacy.events`); the task decides how to show them.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from pathlib import Path
from typing import Callable
from typing import Iterator

from schema.fingerprint import MOLE_APPS
from schema.model import Schema
from tooling.compliance.lineage import LineageMatch
from tooling.compliance.lineage import LineageStep
from tooling.compliance.lineage import match_lineage
from tooling.compliance.lineage import point_of_record
from tooling.compliance.lineage import step_named
from tooling.compliance.sequences import sequences_behind
from tooling.compliance.sequences import set_past_max
from tooling.compliance.verification import VERIFIED_SCHEMAS
from tooling.compliance.verification import CheckResult
from tooling.compliance.verification import VerificationReport
from tooling.compliance.verification import verify_database
from tooling.errors import CommandFailed
from tooling.errors import ToolingError
from tooling.fault_injection import pause_point
from tooling.legacy.bundle_store import MIGRATED_DUMP
from tooling.legacy.bundle_store import Bundle
from tooling.legacy.bundle_store import BundleStore
from tooling.legacy.bundle_store import copy_hashing
from tooling.legacy.data_check import DataCheck
from tooling.legacy.data_check import check_data
from tooling.legacy.data_check import columns_to_sum
from tooling.legacy.data_check import settle
from tooling.legacy.data_fixes import Rehearsal
from tooling.legacy.data_fixes import diagnose_failed_migrate
from tooling.legacy.data_fixes import run_fixes
from tooling.legacy.data_inventory import Inventory
from tooling.legacy.data_inventory import take_inventory
from tooling.legacy.draft import Draft
from tooling.legacy.draft import write_data_fix
from tooling.legacy.draft import write_draft
from tooling.legacy.drift_conversion import DriftConversion
from tooling.legacy.drift_conversion import converted_loaded
from tooling.legacy.events import ApplyingCustom
from tooling.legacy.events import DriftConverted
from tooling.legacy.events import DumpLoaded
from tooling.legacy.events import HistoryMissing
from tooling.legacy.events import HistoryRewritten
from tooling.legacy.events import LineageFound
from tooling.legacy.events import MigratingFrom
from tooling.legacy.events import Report
from tooling.legacy.events import Verified
from tooling.legacy.events import ignore
from tooling.legacy.history import HistoryRewrite
from tooling.legacy.history import rewrite_history
from tooling.legacy.inputs import LegacyInput
from tooling.legacy.inputs import Progress
from tooling.legacy.loading import LoadedLegacy
from tooling.legacy.loading import loaded_legacy
from tooling.legacy.registry import APP
from tooling.legacy.registry import CustomMigration
from tooling.legacy.registry import read_registry
from tooling.legacy.report import render_report
from tooling.legacy.row_proof import PROOF_SCHEMA
from tooling.legacy.row_proof import RecordedTable
from tooling.legacy.row_proof import compare_rows
from tooling.legacy.row_proof import drop_proof
from tooling.legacy.row_proof import record_rows
from tooling.legacy.row_versions import RowBoundary
from tooling.legacy.row_versions import mark_boundary
from tooling.legacy.row_versions import unwritten_tables
from tooling.manifests import utc_timestamp
from tooling.process import Completed
from tooling.server.backends import Backend
from tooling.server.database_facts import migration_state
from tooling.server.database_facts import mole_head
from tooling.server.database_facts import schema_snapshot
from tooling.server.database_facts import schema_snapshots
from tooling.server.django_commands import migrate
from tooling.server.postgres_tools import DUMP_FORMAT
from tooling.settings import Settings

# The apps whose tables Django's post_migrate signals read (contenttypes' and auth's handlers).
SIGNALLED_APPS = ("contenttypes", "auth")
# Django's words (django.db.migrations.loader.check_consistent_history).
INCONSISTENT = re.compile(r"Migration (?P<applied>\S+) is applied before its dependency (?P<dependency>\S+)")


@dataclass(frozen=True)
class LegacyOptions:
    """The user's choices for `invoke legacy`."""

    migration: str | None = None
    bundle: str | None = None
    allow_data_loss: bool = False
    keep_scratch: bool = False
    source_encoding: str | None = None  # the dump's real encoding, when it says SQL_ASCII


@dataclass
class LegacyOutcome:
    """How a legacy run ended, and what it made and found on the way."""

    status: str  # "bundled", "draft" (an alignment to review), "data_fix" (a data fix to review) or "failed"
    lineage: LineageMatch
    scratch: str
    bundle: Bundle | None = None
    draft: Draft | None = None
    verification: VerificationReport | None = None
    data: DataCheck | None = None
    started_from: str | None = None  # the migration an old Mole was recorded at
    sequences_set: list[str] = field(default_factory=list)  # sequences moved past their column's max
    conversion: DriftConversion | None = None  # the Django-version drift converted, if any
    history_rewrite: HistoryRewrite | None = None  # how django_migrations was made the point's
    recorded_without_history: list[str] | None = None  # other apps' heads recorded, for a dump without one
    rehearsal: Rehearsal | None = None  # why a migration could not take the old data
    data_fixes: list[CustomMigration] = field(default_factory=list)  # reviewed data fixes run on the way
    cleanup_interrupted: bool = False  # Ctrl-C came after the bundle was complete, during the clean-up


def input_stem(path: Path) -> str:
    """`old experiment é.sql.gz` -> `old-experiment`: ASCII letters, digits, `-` and `_` only,
    safe in bundle and migration names."""
    stem = path.name.split(".")[0]
    safe = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "-_" else "-" for ch in stem)
    return re.sub(r"-+", "-", safe).strip("-_")[:50] or "legacy"


def default_bundle_name(path: Path) -> str:
    """`<input stem>_<YYYYMMDD>`."""
    return f"{input_stem(path)}_{date.today():%Y%m%d}"


def run_legacy(
    backend: Backend,
    settings: Settings,
    path: Path,
    options: LegacyOptions,
    *,
    report: Report = ignore,
    progress: Progress | None = None,
) -> LegacyOutcome:
    """Load the dump at `path` into a scratch database, place it in Mole's history, migrate it
    (by the history, or by its custom migration) and prove it: schema, migrations, sequences,
    every row. Returns the outcome: "bundled" (with the bundle), "draft" (a custom migration
    was drafted for review), "data_fix" (a migration cannot take the old rows: the rehearsal says
    why, and a data fix was drafted for review) or "failed" (the verification says why; nothing
    was written).

    Raises ToolingError (one of its kinds) for input that cannot be loaded or used, before or
    instead of any change; the live database and existing bundles are never touched.
    """
    store = BundleStore(settings.backups_dir / "bundles")
    # The bundle keeps the original and a migrated dump (custom format: rarely larger).
    store.check_room(2 * path.stat().st_size if path.is_file() else 0)
    bundle_name = store.free_name(options.bundle or default_bundle_name(path), exact=bool(options.bundle))
    bundled: list[LegacyOutcome] = []
    try:
        with backend.django_session():
            return migrated_legacy(
                backend, settings, path, options, store, bundle_name, report, progress, bundled)
    except KeyboardInterrupt:
        if not bundled:
            raise
        # Only the clean-up after a complete bundle was cut short (a scratch database left is
        # removed by the next task).
        bundled[0].cleanup_interrupted = True
        return bundled[0]


def migrated_legacy(
    backend: Backend,
    settings: Settings,
    path: Path,
    options: LegacyOptions,
    store: BundleStore,
    bundle_name: str,
    report: Report,
    progress: Progress | None,
    bundled: list[LegacyOutcome],
) -> LegacyOutcome:
    """The body of `run_legacy`, run in one Django session; a bundled outcome is added to `bundled`
    as soon as the bundle is complete."""
    chosen = None
    if options.migration:
        chosen = read_registry(backend, settings).named(options.migration)
    with original_copied(store, bundle_name, path) as original, loaded_legacy(
        backend, settings, path, keep=options.keep_scratch, progress=progress,
        source_encoding=options.source_encoding,
    ) as loaded:
        report(DumpLoaded(path.name, loaded.source.kind, loaded.database))
        report(LineageFound(loaded.lineage))
        outcome = LegacyOutcome("failed", loaded.lineage, loaded.database)
        if loaded.lineage.drift and (chosen is None or chosen.fingerprint != loaded.lineage.fingerprint):
            outcome.conversion, loaded = converted_loaded(backend, settings, loaded)
            report(DriftConverted(tuple(outcome.conversion.lines()), loaded.lineage))
        lineage = outcome.lineage = loaded.lineage
        registry = read_registry(backend, settings)
        custom = None
        if not lineage.exact or chosen is not None:
            custom = chosen or registry.for_fingerprint(lineage.fingerprint)
            if custom is None:
                outcome.status = "draft"
                outcome.draft = write_draft(backend, settings, loaded, input_stem(path))
                return outcome
        # The drift conversion changed no data: the original rows are recorded as converted. What
        # is written after the boundary is read again after the migration; the rest is not.
        boundary = mark_boundary(backend, loaded.database)
        rows = record_rows(backend, loaded.database, loaded.snapshot)
        with summed_beside(backend, loaded.database, loaded.snapshot, rows) as summed:
            if custom is None:
                head = mole_head(migration_state(backend, loaded.database))
                recorded = point_of_record(loaded.history, head, registry.custom_labels)
                point = step_named(loaded.history, lineage.starting_point(recorded))
                report(MigratingFrom(point.migration))
            else:
                point = apply_custom(backend, loaded, custom, report)
            outcome.history_rewrite = rewrite_history(
                backend, loaded.database, loaded.history, point, registry.custom_labels)
            if outcome.history_rewrite and outcome.history_rewrite.changed:
                report(HistoryRewritten(outcome.history_rewrite.describe()))
            outcome.started_from = point.migration
            fixes = registry.fixes_for(lineage.fingerprint)
            if outcome.history_rewrite is None:
                outcome.recorded_without_history = record_without_history(
                    backend, loaded.database, loaded.snapshot, point)
                report(HistoryMissing(tuple(outcome.recorded_without_history)))
            try:
                outcome.data_fixes = migrate_from(backend, loaded.database, loaded.history, point, fixes)
            except CommandFailed as failure:
                refuse_inconsistent_history(failure)
                outcome.rehearsal = diagnose_failed_migrate(backend, loaded.database)
                if outcome.rehearsal is None:
                    raise
                outcome.status = "data_fix"
                outcome.draft = write_data_fix(backend, settings, loaded, input_stem(path), outcome.rehearsal)
                return outcome
        before = summed()
        behind = sequences_behind(backend, loaded.database)
        set_past_max(backend, loaded.database, behind)
        outcome.sequences_set = [item.describe() for item in behind]
        # The database is final now: it is dumped while the checks read it (a second core's work).
        with migrated_dump_started(backend, store, bundle_name, loaded.database) as (dumped, dump_finished):
            # Both schemas: data a custom migration moved into `legacy` is kept, not lost. The data
            # check (psql) runs beside the verification (mostly Django's work).
            schemas = schema_snapshots(backend, loaded.database, VERIFIED_SCHEMAS)
            with ThreadPoolExecutor(max_workers=1) as beside:
                checked = beside.submit(data_after, backend, loaded.database, before, schemas, boundary)
                outcome.verification = verify_database(backend, settings, loaded.database, schemas=schemas)
                outcome.data, after = checked.result()
            prove_rows(backend, loaded.database, rows, outcome.data)
            outcome.verification.checks.append(data_result(outcome.data, options.allow_data_loss))
            if not outcome.verification.ok:
                return outcome
            dump_finished()
            report(Verified(len(outcome.data.losses)))
            counts = {"before": row_counts(before), "after": row_counts(after)}
            with ThreadPoolExecutor(max_workers=1) as beside:
                if not options.keep_scratch:  # pg_dump, its last reader, has ended
                    beside.submit(backend.admin.drop_database, loaded.database)
                outcome.bundle = write_bundle(
                    backend, store, bundle_name, loaded, custom, outcome, counts, original(), dumped)
                outcome.status = "bundled"
                bundled.append(outcome)
                pause_point("legacy-bundled")
        return outcome


@contextmanager
def original_copied(
    store: BundleStore, bundle_name: str, path: Path
) -> Iterator[Callable[[], tuple[Path, str]]]:
    """A copy of the input at `path` for the bundle, made beside the bundles while the block runs
    (loading leaves a core free): yields the call that waits for it and returns its path and
    sha256. The copy is removed after the block unless the bundle took it in."""
    stop = threading.Event()
    with store.file_in_progress(bundle_name, "original") as copy, ThreadPoolExecutor(max_workers=1) as beside:
        copying = beside.submit(copy_hashing, path, copy, stop)
        try:
            yield lambda: (copy, copying.result())
        finally:
            stop.set()


@contextmanager
def summed_beside(
    backend: Backend, database: str, snapshot: Schema, rows: list[RecordedTable]
) -> Iterator[Callable[[], Inventory]]:
    """The inventory of `database` (`snapshot`) before the block changes it: yields the call that
    returns it after the block. Tables without digests (`rows`) are read now; the others are summed
    from their digests while the block runs (they are final; Django's work leaves a core free)."""
    digested = {item.table for item in rows}
    undigested = take_inventory(backend, database, {"public": snapshot},
                                tables={f"public.{name}" for name in snapshot.tables} - digested)
    with ThreadPoolExecutor(max_workers=1) as beside:
        summed = beside.submit(take_inventory, backend, database, {"public": snapshot}, rows, tables=digested)
        yield lambda: undigested | summed.result()


@contextmanager
def migrated_dump_started(
    backend: Backend, store: BundleStore, bundle_name: str, database: str
) -> Iterator[tuple[Path, Callable[[], Completed]]]:
    """pg_dump of the migrated `database` (without the row proof's schema) running while the block
    runs: yields the file it writes, beside the bundles, and the `wait` for its end (raises
    CommandFailed). The file is removed after the block unless the bundle took it in."""
    with store.file_in_progress(bundle_name, MIGRATED_DUMP) as path, path.open("xb") as stream:
        with backend.tools.dump_started(database, stdout=stream, stdout_path=path,
                                        exclude_schema=PROOF_SCHEMA) as dump_finished:
            yield path, dump_finished


def record_without_history(
    backend: Backend, database: str, snapshot: Schema, point: LineageStep
) -> list[str]:
    """For a dump without `django_migrations`: record Mole's apps as applied up to `point`, and
    every other app (Django's own, easy_thumbnails) whose tables the dump has all of at its head
    (the verification then holds that against the schema); an app whose tables are missing is
    left for `migrate` to make. Returns those heads (`app.name`). Raises CommandFailed when
    Django refuses."""
    state = migration_state(backend, database)
    present = set(snapshot.tables)
    whole = {app for app, tables in state["tables"].items()
             if app not in MOLE_APPS and app in state["heads"] and tables and set(tables) <= present}
    # Each `migrate`, faked too, ends with signals that read content types and permissions as
    # the migrations recorded so far describe them: those two apps are recorded first.
    others = [app for app in SIGNALLED_APPS if app in whole] + sorted(whole - set(SIGNALLED_APPS))
    recorded = [f"{app}.{state['heads'][app]}" for app in others]
    for target in recorded + point.targets:
        migrate(backend, database, target, fake=True)
    return recorded


def migrate_from(
    backend: Backend, database: str, history: list[LineageStep], point: LineageStep,
    fixes: list[CustomMigration],
) -> list[CustomMigration]:
    """Run every migration after `point` (recorded as applied up to it), data migrations
    included, each reviewed data fix right before its migration. Returns the fixes run. Raises
    CommandFailed when a migration fails."""
    ran = run_fixes(backend, database, history, point, fixes)
    migrate(backend, database)
    return ran


def refuse_inconsistent_history(failure: CommandFailed) -> None:
    """Raise ToolingError in one line when `migrate` stopped because the dump's history records a
    migration of Django's own apps without one it depends on (Mole's apps are rewritten from the
    schema; Django's own are the dump's as recorded)."""
    found = INCONSISTENT.search(failure.detail)
    if found:
        raise ToolingError(
            f"the dump's django_migrations records {found['applied']} as applied but not "
            f"{found['dependency']}, which it depends on: fix or remove those rows of the dump"
        ) from failure


def apply_custom(
    backend: Backend, loaded: LoadedLegacy, custom: CustomMigration, report: Report
) -> LineageStep:
    """Run `custom`'s alignment on the loaded dump now, at the point of the history it leads to
    (`manage.py align_legacy`); returns that point, which the schema must then be exactly. Raises
    ToolingError for a migration of another schema, an unreviewed draft, a point today's history
    does not have, or an alignment that does not reach its point."""
    lineage = loaded.lineage
    if custom.fingerprint != lineage.fingerprint:
        raise ToolingError(
            f"{custom.label} handles the schema {custom.fingerprint}, this dump's is {lineage.fingerprint}"
        )
    if not custom.reviewed:
        raise ToolingError(
            f"{custom.label} is a draft nobody reviewed: read its REVIEW notes in {custom.path}, "
            "then set REVIEWED = True"
        )
    point = step_named(loaded.history, custom.point or parent_point(loaded.history, custom))
    report(ApplyingCustom(custom.label, point.migration))
    backend.manage(["align_legacy", custom.name], database=loaded.database)
    after = match_lineage(loaded.history, schema_snapshot(backend, loaded.database))
    if point.migration not in after.same_schema:
        differences = "; ".join(after.nearest_differences[:3])
        raise ToolingError(
            f"after {custom.label} the schema is not Mole at {point.migration}: it {after.describe()}"
            + (f" ({differences})" if differences else "")
        )
    return point


def parent_point(history: list[LineageStep], custom: CustomMigration) -> str:
    """The point of a custom migration that declares none: the last one at its parent. Raises
    ToolingError when its parent is no point of today's history."""
    parent = custom.parent.split(".", 1)[-1]
    points = [step.migration for step in history if dict(step.state).get(APP) == parent]
    if not points:
        raise ToolingError(f"{custom.label} declares no ALIGNS_TO and its parent {custom.parent} "
                           "is no point of today's history: add ALIGNS_TO")
    return points[-1]


def data_after(
    backend: Backend, database: str, before: Inventory, schemas: dict[str, Schema],
    boundary: RowBoundary | None = None,
) -> tuple[DataCheck, Inventory]:
    """The data check of `database` as it is now (`schemas`: its snapshots by schema name) against
    `before`, and the inventory it read. New columns of the original tables are summed only when
    something looks lost: it may have moved there. A table nothing wrote into since `boundary`
    (taken before `before`'s digests) keeps its inventory from `before` and is not read again."""
    present = {f"{schema}.{name}": set(table.columns)
               for schema, snapshot in schemas.items() for name, table in snapshot.tables.items()}

    def inventory(kept: set[str], columns_of: dict[str, set[str]] | None = None) -> Inventory:
        """The tables `kept` as before, the others read (`columns_of` as in take_inventory)."""
        return {name: before[name] for name in kept} | take_inventory(
            backend, database, schemas, columns_of=columns_of, tables=set(present) - kept)

    unwritten = set()
    if boundary is not None:
        unwritten = unwritten_tables(backend, database, boundary, row_counts(before), present)
    after = inventory(unwritten, columns_to_sum(before, schemas))
    data = check_data(before, after)
    if data.losses:
        # Every column is summed now: a table keeps its inventory only if it has no new column.
        unwritten = {name for name in unwritten if present[name] == set(before[name]["columns"])}
        after = inventory(unwritten)
        data = check_data(before, after)
    data.unwritten = sorted(unwritten)
    return data, after


def prove_rows(backend: Backend, database: str, rows: list[RecordedTable], data: DataCheck) -> None:
    """Compare every original row by key where the data check placed it; then drop the digests."""
    comparison = compare_rows(backend, database, rows, data.places)
    settle(data, comparison.differences, comparison.compared)
    data.unproven += comparison.unproven
    drop_proof(backend, database)


def data_result(data: DataCheck, allow_data_loss: bool) -> CheckResult:
    """The no-data-lost check from the data check; losses --allow-data-loss allows are named, not failed."""
    check = CheckResult("no_data_lost", "every row and every value of the original is still there")
    if data.losses and allow_data_loss:
        check.summary = "data was dropped, as allowed by --allow-data-loss: " + "; ".join(data.losses)
    else:
        check.problems.extend(f"data lost: {loss}" for loss in data.losses)
    return check


def write_bundle(
    backend: Backend,
    store: BundleStore,
    name: str,
    loaded: LoadedLegacy,
    custom: CustomMigration | None,
    outcome: LegacyOutcome,
    row_counts: dict[str, dict[str, int]],
    original: tuple[Path, str],
    dumped: Path,
) -> Bundle:
    """Write the bundle: the original (`original`: its copy and that copy's sha256, moved in),
    custom migration, media, the migrated dump (`dumped`, moved in), manifest and REPORT.md."""
    source: LegacyInput = loaded.source
    manifest = {
        "name": name,
        "created_utc": utc_timestamp(),
        "source": {
            "file": source.path.name,
            "format": source.kind,
            "size_bytes": source.size,
            "dumped_by_pg_dump": loaded.load.dumped_by,
        },
        "load": loaded.load.as_dict(),
        "versions": {
            "server": backend.tools.server_version(),
            "pg_dump": backend.tools.pg_dump_version(),
            "django": outcome.verification.migration_state["django_version"],
            "python": platform.python_version(),
        },
        "backend": backend.name,
        "migration_head": mole_head(outcome.verification.migration_state),
        "lineage": outcome.lineage.as_dict(),
        "fingerprint": outcome.lineage.fingerprint,
        "started_from": outcome.started_from,
        "custom_migration": custom.label if custom else None,
        "sequences_set_past_max": outcome.sequences_set,
        "django_drift_converted": outcome.conversion.as_dict() if outcome.conversion else None,
        "history_rewritten": outcome.history_rewrite.as_dict() if outcome.history_rewrite else None,
        "recorded_without_history": outcome.recorded_without_history,
        "data_fixes": [fix.label for fix in outcome.data_fixes],
        "verification": outcome.verification.as_dict(),
        "data": outcome.data.as_dict(),
        "row_counts": row_counts,
        "migrated_dump": {"file": MIGRATED_DUMP, "format": DUMP_FORMAT},
    }
    copy, copy_sha256 = original
    kept = f"original/{source.path.name}"
    with store.creating(name, manifest, known={kept: copy_sha256}) as folder:
        (folder / "original").mkdir()
        os.replace(copy, folder / kept)
        if custom or outcome.data_fixes:
            (folder / "migration").mkdir()
        for migration in ([custom] if custom else []) + outcome.data_fixes:
            shutil.copy2(migration.path, folder / "migration" / migration.path.name)
        if loaded.media:
            shutil.copytree(loaded.media, folder / "mole_media")
        if outcome.conversion:
            (folder / "conversion").mkdir()
            (folder / "conversion" / "forward.sql").write_text(outcome.conversion.forward_sql())
            (folder / "conversion" / "reverse.sql").write_text(outcome.conversion.reverse_sql())
        os.replace(dumped, folder / MIGRATED_DUMP)
        (folder / "REPORT.md").write_text(render_report(manifest, outcome))
    return store.get(name)


def row_counts(inventory: Inventory) -> dict[str, int]:
    """Rows per `schema.table` from an inventory."""
    return {table: data["rows"] for table, data in sorted(inventory.items())}

