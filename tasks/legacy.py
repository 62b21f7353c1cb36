"""Legacy experiments: compare a dump, draft its migration, migrate it into a bundle, check bundles."""

from __future__ import annotations

import signal
from pathlib import Path

from invoke import Exit
from invoke import task

from .common import BACKEND_HELP
from .common import backend_of
from .common import refuses_dry
from .common import reports_errors
from .common import required
from .common import settings_of
from .common import show_skipped
from .common import terminal_progress
from .database import print_checks

__all__ = ["diff", "draft_migration", "legacy", "bundles", "bundle_check"]

EXIT_DIFFERENT = 1
EXIT_NOT_COMPLIANT = 1
EXIT_DRAFT_WRITTEN = 3
DB_HELP = "The legacy dump: pg_dump SQL (plain or gzip), pg_dump custom format, or a Mole .tar.gz archive."
ENCODING_HELP = "The dump's real text encoding (e.g. LATIN1) when it says SQL_ASCII; the server converts it."


def bundle_store_of(c):
    """The bundles folder of the task's settings."""
    from tooling.legacy.bundle_store import BundleStore

    return BundleStore(settings_of(c).backups_dir / "bundles")


@task(
    help={
        "db": DB_HELP,
        "against": "Compare with this second dump instead of the reference schema of the current head.",
        "source_encoding": ENCODING_HELP,
        "json": "Also write the differences, rename candidates and lineage to this JSON file.",
        "backend": BACKEND_HELP,
    }
)
@reports_errors
@refuses_dry
def diff(c, db=None, against=None, json=None, backend=None, source_encoding=None):
    """List every schema difference of a dump against today's schema (exit 1 if any)."""
    from tooling.compliance.lineage import leaf_migration
    from tooling.compliance.reference_schema import reference_snapshot
    from tooling.legacy.diff import diff_schemas
    from tooling.legacy.loading import loaded_legacy

    db = required(db, "--db FILE", "diff")
    chosen = backend_of(c, backend)
    settings = settings_of(c)
    with chosen.django_session(), loaded_legacy(
        chosen, settings, Path(db), progress=terminal_progress("Loading"), source_encoding=source_encoding
    ) as loaded:
        lineage = loaded.lineage
        if against:
            with loaded_legacy(
                chosen, settings, Path(against), progress=terminal_progress("Loading")
            ) as other:
                result = diff_schemas(other.snapshot, loaded.snapshot, Path(against).name, lineage)
        else:
            head = leaf_migration(loaded.history)
            result = diff_schemas(
                reference_snapshot(chosen, settings),
                loaded.snapshot,
                f"the reference schema ({head})",
                lineage,
            )
    print("\n".join(result.lines()))
    if json:
        result.write_json(Path(json))
        print(f"Wrote {json}")
    if not result.identical:
        raise Exit(code=EXIT_DIFFERENT)


@task(
    help={
        "db": DB_HELP,
        "name": "Name of the migration (becomes NNNN_legacy_NAME.py in mole/data_collection/migrations/).",
        "source_encoding": ENCODING_HELP,
        "backend": BACKEND_HELP,
    }
)
@reports_errors
@refuses_dry
def draft_migration(c, db=None, name=None, backend=None, source_encoding=None):
    """Write a draft custom migration that aligns a legacy dump with today's schema."""
    from tooling.legacy.draft import migration_name
    from tooling.legacy.draft import write_draft
    from tooling.legacy.drift_conversion import converted_loaded
    from tooling.legacy.loading import loaded_legacy
    from tooling.legacy.registry import read_registry

    db, name = required(db, "--db FILE", "draft-migration"), required(name, "--name NAME", "draft-migration")
    migration_name(name)  # refuse a bad name before loading anything
    chosen = backend_of(c, backend)
    settings = settings_of(c)
    with chosen.django_session(), loaded_legacy(
        chosen, settings, Path(db), progress=terminal_progress("Loading"), source_encoding=source_encoding
    ) as loaded:
        if loaded.lineage.drift:
            # As `legacy` does: the draft aligns (and declares the fingerprint of) what is left.
            _, loaded = converted_loaded(chosen, settings, loaded)
        lineage = loaded.lineage
        if lineage.exact:
            raise Exit(
                f"error: no migration needed: the dump {lineage.describe()}; run `invoke legacy --db {db}`",
                code=2,
            )
        existing = read_registry(chosen, settings).for_fingerprint(lineage.fingerprint)
        if existing:
            raise Exit(
                f"error: {existing.label} already handles this schema (fingerprint {lineage.fingerprint}); "
                f"edit it, or run `invoke legacy --db {db}`",
                code=2,
            )
        draft = write_draft(chosen, settings, loaded, name)
    print_draft(draft)


def print_draft(draft) -> None:
    """Where the draft is, and its REVIEW notes."""
    from schema.django_drift import plural_of

    steps, reviews = len(draft.steps), len(draft.reviews)
    print(f"Wrote the draft {draft.path} ({steps} {plural_of(steps, 'step')}).")
    if reviews:
        print(f"Review {'these' if reviews > 1 else 'this'} {reviews} {plural_of(reviews, 'step')} "
              "before anything else:")
        for review in draft.reviews:
            print(f"  - {review}")
    print("Read every step, then set REVIEWED = True in the file and run `invoke legacy` again.")


@task(
    help={
        "db": DB_HELP,
        "migration": "Custom migration to apply (default: the one declaring this dump's fingerprint).",
        "name": "Bundle name (default: the input's name and today's date).",
        "allow_data_loss": "Accept a migration that drops data; the report names what was dropped.",
        "keep_scratch": "Keep the scratch database afterwards, to inspect it.",
        "source_encoding": ENCODING_HELP,
        "backend": BACKEND_HELP,
    }
)
@reports_errors
@refuses_dry
def legacy(
    c, db=None, migration=None, name=None, allow_data_loss=False, keep_scratch=False, backend=None,
    source_encoding=None,
):
    """Migrate a legacy dump into a verified bundle (exit 3: a draft migration was written to review)."""
    from tooling.legacy.pipeline import LegacyOptions
    from tooling.legacy.pipeline import run_legacy

    db = required(db, "--db FILE", "legacy")
    options = LegacyOptions(migration, name, bool(allow_data_loss), bool(keep_scratch), source_encoding)
    outcome = run_legacy(
        backend_of(c, backend),
        settings_of(c),
        Path(db),
        options,
        report=lambda event: print(event_text(event)),
        progress=terminal_progress("Loading"),
    )
    # The run's work is done, whatever its outcome: a Ctrl-C now would only hide what it found.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if keep_scratch:
        print(f"Kept the scratch database {outcome.scratch}.")
    if outcome.status == "data_fix":
        print("\n".join(outcome.rehearsal.lines()))
        print("Nothing was migrated further; a data fix runs right before that migration once reviewed.")
        print_draft(outcome.draft)
        raise Exit(code=EXIT_DRAFT_WRITTEN)
    if outcome.status == "draft":
        print(f"No migration handles this schema yet (fingerprint {outcome.lineage.fingerprint}).")
        print_draft(outcome.draft)
        raise Exit(code=EXIT_DRAFT_WRITTEN)
    if outcome.status == "failed":
        print_checks(outcome.verification)
        raise Exit(
            "legacy: the migrated database is not compliant; no bundle was written", code=EXIT_NOT_COMPLIANT
        )
    bundle = outcome.bundle
    print(f"Bundle: {bundle.folder}")
    print(f"Report: {bundle.folder / 'REPORT.md'}")
    print(f"Manifest sha256: {bundle.manifest_sha256} (keep it elsewhere to tell a forged bundle)")
    print(f"Look at it: invoke open --bundle {bundle.name}")
    if outcome.cleanup_interrupted:
        print(f"Interrupted after the bundle was complete; if the scratch database {outcome.scratch} "
              "is left, the next task removes it.")


def event_text(event) -> str:
    """The words for one of `run_legacy`'s events."""
    from tooling.legacy import events as events

    if isinstance(event, events.DumpLoaded):
        return f"Loaded {event.source} ({event.kind}) into scratch database {event.database}."
    if isinstance(event, events.LineageFound):
        return f"Lineage: {event.lineage.describe()}."
    if isinstance(event, events.DriftConverted):
        return (f"Made by an older Django: converted {len(event.lines)} of Django's own differences "
                f"(serial keys to identity, spatial index names); now it {event.lineage.describe()}.")
    if isinstance(event, events.MigratingFrom):
        return f"An old Mole: recording migrations up to {event.start} as applied, then migrating to head."
    if isinstance(event, events.ApplyingCustom):
        return (f"Applying the custom migration {event.label}: aligning the schema to {event.point}, "
                "then running every later migration.")
    if isinstance(event, events.HistoryMissing):
        return ("The dump has no migration history: Mole's apps are recorded up to its point, and "
                f"at today's heads the apps whose tables it has: {', '.join(event.recorded) or 'none'}.")
    if isinstance(event, events.HistoryRewritten):
        return ("The dump's migration history did not fit its schema; rewritten from the lineage: "
                f"{event.summary}.")
    losses = event.allowed_losses
    dropped = f" except what --allow-data-loss let go ({losses})" if losses else ""
    return f"Verified: schema equals the reference, no migration left, models match, no data lost{dropped}."


@task
@reports_errors
def bundles(c):
    """List legacy bundles: name, source, how it was migrated (lineage or custom migration), head."""
    store = bundle_store_of(c)
    found = store.all()
    show_skipped(store.skipped)
    if not found:
        print("No bundles yet (`invoke legacy --db FILE` makes one).")
        return
    print(f"{'name':<32} {'created':<21} {'source':<28} {'how':<40} head")
    for item in found:
        manifest = item.manifest
        print(
            f"{item.name:<32} {manifest['created_utc']:<21} "
            f"{manifest.get('source', {}).get('file', '-'):<28} {how_migrated(manifest):<40} "
            f"{short_migration(manifest.get('migration_head'))}"
        )


def how_migrated(manifest) -> str:
    """`lineage from 0005_x`, or `custom 0011_legacy_y`: what brought the dump to head."""
    if manifest.get("custom_migration"):
        return f"custom {short_migration(manifest['custom_migration'])}"
    return f"lineage from {short_migration(manifest.get('started_from'))}"


def short_migration(label) -> str:
    """`0005_x` for `data_collection.0005_x`; `-` for none."""
    return label.split(".", 1)[-1] if label else "-"


@task(help={"name": "The bundle to check (see `invoke bundles`).", "backend": BACKEND_HELP})
@reports_errors
@refuses_dry
def bundle_check(c, name=None, backend=None):
    """Re-check a bundle: every sha256, then restore its migrated dump in a scratch database and verify."""
    from tooling.legacy.bundle_check import check_bundle

    bundle = bundle_store_of(c).get(required(name, "--name NAME", "bundle-check"))
    chosen = backend_of(c, backend)
    checked = check_bundle(chosen, settings_of(c), bundle)
    files = len(bundle.manifest.get("files", {}))
    print(f"ok   every file matches its sha256 ({files} files, and the manifest its own)")
    print_checks(checked.report)
    if not checked.ok:
        raise Exit(f"bundle-check: {name} restores, but is not compliant at {checked.made_at}",
                   code=EXIT_NOT_COMPLIANT)
    print(f"bundle-check: {name} is intact and compliant at {checked.made_at}, the head it was made at.")
    if checked.later:
        print(f"Today's head is newer: {len(checked.later)} later migration(s) "
              f"({', '.join(checked.later)}); `invoke open` and `restore --bundle` apply them.")
