"""Dump a database into the backup store, and restore one as the live database.

A restore loads into a staging database first and swaps it in only when
`pg_restore` succeeded, so a failed restore leaves the previous database in place.
"""
from __future__ import annotations

from pathlib import Path

from tooling.backups.backup_store import Backup
from tooling.backups.backup_store import BackupStore
from tooling.debris import find_on_server
from tooling.debris import open_lock
from tooling.errors import DatabaseNotFound
from tooling.errors import RestoreRunning
from tooling.fault_injection import pause_point
from tooling.manifests import utc_timestamp
from tooling.owner import OwnerState
from tooling.server.backends import Backend
from tooling.server.database_facts import migration_state
from tooling.server.database_facts import mole_head
from tooling.server.postgres_tools import DUMP_FORMAT

RESTORING_INTO = "restoring into"


def take_backup(
    backend: Backend,
    store: BackupStore,
    label: str,
    *,
    lock_wait_timeout: str,
    database: str | None = None,
) -> Backup | None:
    """Dump `database` (the live one by default); None in a dry run."""
    database = database or backend.database
    name = store.new_name(label)
    target = store.folder / f"{name}.dump"
    if backend.runner.dry:
        backend.tools.dump(database, stdout_path=target, lock_wait_timeout=lock_wait_timeout)
        return None
    if not backend.admin.database_exists(database):
        raise DatabaseNotFound(database, "nothing to back up")
    manifest = {
        "name": name,
        "created_utc": utc_timestamp(),
        "database": database,
        "backend": backend.name,
        "format": DUMP_FORMAT,
        "server_version": backend.tools.server_version(),
        "pg_dump_version": backend.tools.pg_dump_version(),
        "migration_head": mole_head(migration_state(backend, database)),
    }
    with store.writing(name, manifest) as stream:
        backend.tools.dump(database, stdout=stream, stdout_path=target, lock_wait_timeout=lock_wait_timeout)
    return store.get(manifest["name"])


def load_dump_as(backend: Backend, dump: Path, target: str) -> None:
    """Restore a custom-format dump so that it becomes database `target`, or change nothing.

    It is restored into a scratch database first (named after this run, so that a kill at any
    instant leaves it to the next run's clean-up), which then takes `target`'s place.
    Raises RestoreRunning if another run is restoring into `target`.
    """
    purpose = f"{RESTORING_INTO} {target}"
    refuse_concurrent_restore(backend, target, purpose)
    # Dropped afterwards whatever happens: after the swap, the name is gone and nothing is dropped.
    with backend.admin.scratch_database("restore", note=purpose, bare=True) as staging:
        backend.tools.restore(staging, dump)
        backend.admin.ensure_extensions(staging)
        pause_point("restore-staged")
        if backend.runner.dry or backend.admin.database_exists(target):
            backend.admin.replace_database(target, staging)
        else:
            backend.admin.rename_database(staging, target, was_temporary=True)


def refuse_concurrent_restore(backend: Backend, target: str, purpose: str) -> None:
    """A restore into `target` by a run still working: a second one would race it."""
    if backend.runner.dry:
        return
    for item in find_on_server(backend):
        if item.note.endswith(f" {purpose}") and item.state is OwnerState.ALIVE:
            raise RestoreRunning(f"another restore into {target!r} is running (staging database {item.name})")


def replace_live_database(
    backend: Backend, store: BackupStore, dump: Path, *, lock_wait_timeout: str, lock: Path
) -> Backup | None:
    """Load a checked custom-format dump as the live database, saving the live one first.

    `lock` is held from before the safety backup to the swap: a second restore on this
    machine is refused at once (RestoreRunning); one from another machine is refused when
    it finds this one's staging database.
    """
    with open_lock(lock) as held:
        if not held:
            raise RestoreRunning(f"another restore into {backend.database!r} is running on this machine")
        safety = None
        if backend.runner.dry or backend.admin.database_exists(backend.database):
            safety = take_backup(backend, store, "before-restore", lock_wait_timeout=lock_wait_timeout)
        load_dump_as(backend, dump, backend.database)
        return safety
