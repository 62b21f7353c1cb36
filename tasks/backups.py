"""Backups of the live database: take, list, prune, restore."""
from __future__ import annotations

import sys

from invoke import Exit
from invoke import task

from .common import BACKEND_HELP
from .common import backend_of
from .common import clear_debris
from .common import reports_errors
from .common import settings_of
from .common import show_skipped

__all__ = ["backup", "backups", "prune_backups", "restore"]


def backup_store_of(c):
    """The backups folder of the task's settings."""
    from tooling.backups.backup_store import BackupStore

    return BackupStore(settings_of(c).backups_dir / "backups")


@task(help={"label": "Short label appended to the UTC timestamp in the file name.", "backend": BACKEND_HELP})
@reports_errors
def backup(c, label="manual", backend=None):
    """Dump the live database (pg_dump custom format) into db_backups/backups/ with a manifest."""
    from tooling.backups.database_backup import take_backup

    taken = take_backup(
        backend_of(c, backend),
        backup_store_of(c),
        label,
        lock_wait_timeout=settings_of(c).lock_wait_timeout,
    )
    if taken:
        print(f"Backed up to {taken.dump} ({taken.manifest['size_bytes']} bytes, "
              f"head {taken.manifest['migration_head']}).")


@task
@reports_errors
def backups(c):
    """List backups: name, age, size and migration head."""
    from tooling.manifests import utc_now

    show_partial_backups(clear_debris(c))
    store = backup_store_of(c)
    found = store.all()
    show_skipped(store.skipped)
    if not found:
        print("No backups yet (`invoke backup` makes one).")
        return
    now = utc_now()
    print(f"{'name':<40} {'age':>10} {'size':>12}  head")
    for item in found:
        print(f"{item.name:<40} {format_age(now - item.created):>10} "
              f"{item.manifest['size_bytes']:>12}  {item.manifest['migration_head'] or '-'}")


def show_partial_backups(cleanup) -> None:
    """Partial backup files: removed ones (their run was killed) and those still being written."""
    for item in cleanup.removed + cleanup.kept:
        if item.kind in ("partial backup file", "backup manifest without its dump"):
            done = ": removed" if item in cleanup.removed else ""
            print(f"partial:  {item.describe()}{done}")


def format_age(age) -> str:
    """`3d`, `5h`, `2m` or `40s`: an age in its largest whole unit."""
    seconds = int(age.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@task(help={"keep": "How many of the newest backups to keep."})
@reports_errors
def prune_backups(c, keep):
    """Delete all but the newest N backups."""
    store = backup_store_of(c)
    show_partial_backups(clear_debris(c))
    if c.config.run.dry:
        for item in store.beyond(int(keep)):
            print(f"would delete {item.dump}")
        return
    for item in store.prune(int(keep)):
        print(f"Deleted {item.name}")


@task(
    help={
        "backup": "Name of the backup to restore (see `invoke backups`).",
        "bundle": "Or: name of a legacy bundle whose migrated database to restore (see `invoke bundles`).",
        "yes": "Do not ask before replacing the live database.",
        "backend": BACKEND_HELP,
    }
)
@reports_errors
def restore(c, backup=None, bundle=None, yes=False, backend=None):
    """Replace the live database with a backup or a bundle's migrated database, after a safety backup."""
    from tooling.backups.database_backup import replace_live_database

    if bool(backup) == bool(bundle):
        raise Exit("error: give either --backup or --bundle", code=2)
    if backup:
        chosen_backup = backup_store_of(c).get(backup)
        what, dump, check = f"backup {chosen_backup.name}", chosen_backup.dump, chosen_backup.verify_checksum
    else:
        from .legacy import bundle_store_of

        chosen_bundle = bundle_store_of(c).get(bundle)
        what, dump = f"bundle {chosen_bundle.name}", chosen_bundle.migrated_dump
        check = chosen_bundle.verify_checksums
    chosen = backend_of(c, backend)
    check()
    if not yes and not chosen.runner.dry:
        confirm(f"Replace database {chosen.database!r} with {what}? [y/N] ")
    from tooling.debris import RESTORE_LOCKS

    settings = settings_of(c)
    safety = replace_live_database(
        chosen, backup_store_of(c), dump, lock_wait_timeout=settings.lock_wait_timeout,
        lock=settings.data_dir / RESTORE_LOCKS / f"{chosen.database}.lock",
    )
    if not chosen.runner.dry:
        saved = f" The previous database was saved as {safety.name}." if safety else ""
        print(f"Restored {what} into {chosen.database!r}.{saved}")


def confirm(question: str) -> None:
    """Ask on the terminal; Exit without a terminal (pass --yes) or on any answer but yes."""
    if not sys.stdin or not sys.stdin.isatty():
        raise Exit("error: not replacing the live database without confirmation: pass --yes", code=2)
    if input(question).strip().lower() not in ("y", "yes"):
        raise Exit("Nothing changed.", code=1)
