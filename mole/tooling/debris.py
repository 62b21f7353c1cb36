"""What a killed run leaves behind, named so that the next run of any task can find and remove it.

Every temporary thing carries its owner (`owner.py`): scratch databases (a restore's
staging database among them) and load roles in their names, with a COMMENT that names
the host for people; work folders and partial files in their names; a backup manifest
placed before its dump in its `writer` field; the locks of `open` and `restore` by
being held. What belongs to a process of this host that is gone is debris and is
removed; what belongs to a run still working, or to another host, is only listed, as
are `__restoring` databases of older releases, which name no owner.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Iterator

from tooling.errors import CommandFailed
from tooling.names import quote_identifier
from tooling.owner import Owner
from tooling.owner import OwnerState
from tooling.owner import owner_in_marker
from tooling.owner import owner_of_token
from tooling.owner import this_process
from tooling.server.server_sql import terminate_sessions_of
from tooling.settings import Settings

if TYPE_CHECKING:
    from tooling.server.backends import Backend

SCRATCH_PREFIX = "mole_scratch_"
LOAD_ROLE_PREFIX = "mole_load_"
STAGING_SUFFIX = "__restoring"
WORK_FOLDER_PREFIX = "legacy-"
KEPT_PREFIX = "mole_kept_"
OPEN_LOCKS = "open"
RESTORE_LOCKS = "restore"
SERVER_KINDS = frozenset({"scratch database", "staging database", "load role", "open session lock"})

TOKEN = r"(?P<token>[0-9]+_[0-9]+_[0-9a-f]{6})"
SCRATCH_NAME = re.compile(rf"{SCRATCH_PREFIX}[a-z_]+_{TOKEN}_[0-9a-f]+")
LOAD_ROLE_NAME = re.compile(rf"{LOAD_ROLE_PREFIX}{TOKEN}_[0-9a-f]+")
PARTIAL_NAME = re.compile(rf"\..+\.partial-{TOKEN}")
WORK_FOLDER_NAME = re.compile(rf"{WORK_FOLDER_PREFIX}{TOKEN}-.+")


@dataclass(frozen=True)
class Leftover:
    """One temporary thing: `kind` in words, `name` a database, role or path; `state` None when
    it names no owner (made by an older release of the tooling)."""

    kind: str
    name: str
    state: OwnerState | None
    note: str = ""  # a database's or role's comment

    @classmethod
    def owned_by(cls, kind: str, name: str, owner: Owner | None, note: str = "") -> Leftover:
        """A leftover of `kind` and `name`, its state read from `owner` (None: unmarked)."""
        return cls(kind, name, owner.state() if owner else None, note)

    def describe(self) -> str:
        """One line for `status` and the clean-up note: what, which, and whose."""
        state = self.state
        if state is None:
            return f"{self.kind} {self.name} (no owner recorded: left alone, remove it yourself)"
        return f"{self.kind} {self.name} ({state.value})"


@dataclass(frozen=True)
class Cleanup:
    """What a clean-up found: `removed` (their owners are gone) and `kept` (the rest, with why)."""

    removed: list[Leftover]
    kept: list[Leftover]
    failed: list[str]

    def summary(self) -> str | None:
        """One line for the user, or None when nothing was removed or failed."""
        parts = []
        if self.removed:
            parts.append("removed what killed runs left: "
                         + ", ".join(f"{item.kind} {Path(item.name).name}" for item in self.removed))
        parts += self.failed
        return "; ".join(parts) or None


def scratch_database_name(purpose: str, *, kept: bool = False) -> str:
    """A new scratch database's name: its owner's token in it, or for one the user asked to keep
    (`kept`), none: that one is never debris."""
    if kept:
        return f"{KEPT_PREFIX}{purpose}_{secrets.token_hex(4)}"
    return f"{SCRATCH_PREFIX}{purpose}_{this_process().token}_{secrets.token_hex(2)}"


def load_role_name() -> str:
    """A new load role's name, `mole_load_<owner token>_<hex>` (this run owns it)."""
    return f"{LOAD_ROLE_PREFIX}{this_process().token}_{secrets.token_hex(4)}"


def partial_path(final: Path) -> Path:
    """Where `final` is written before it is renamed into place: hidden, and named after its owner."""
    return final.with_name(f".{final.name}.partial-{this_process().token}")


def work_folder(parent: Path) -> Path:
    """A new private folder for a run's temporary files (extracted archives)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{WORK_FOLDER_PREFIX}{this_process().token}-", dir=parent))


def marker_comment(kind: str, name: str, purpose: str = "") -> str:
    """`COMMENT ON DATABASE|ROLE name IS` this run's marker (and `purpose`, if given)."""
    return comment_on(kind, name, f"{this_process().marker} {purpose}".strip())


def comment_on(kind: str, name: str, text: str | None) -> str:
    """`COMMENT ON DATABASE|ROLE name IS 'text'`; `text` None removes the comment."""
    value = "NULL" if text is None else "'" + text.replace("'", "''") + "'"
    return f"COMMENT ON {kind} {quote_identifier(name)} IS {value}"


@contextmanager
def open_lock(path: Path) -> Iterator[bool]:
    """Hold the lock file `path` exclusively for the block (True), or False if another process holds it.

    The file holds this run's marker and goes when the block ends. After locking, the
    path is checked to still name the locked file: one unlinked meanwhile by its last
    holder (or by a clean-up) is not a lock anymore, so the attempt starts over.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        with path.open("a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                same = os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                continue
            lock.truncate(0)
            lock.write(this_process().marker)
            lock.flush()
            try:
                yield True
            finally:
                path.unlink(missing_ok=True)
            return


def find_files(settings: Settings) -> list[Leftover]:
    """Partial backups, bundles and caches, legacy work folders, and locks of `invoke open`."""
    found = []
    places = {
        "partial backup file": settings.backups_dir / "backups",
        "partial bundle": settings.backups_dir / "bundles",
        "partial cache file": settings.cache_dir,
    }
    for kind, folder in places.items():
        for path in listing(folder):
            matched = PARTIAL_NAME.fullmatch(path.name)
            if matched:
                found.append(Leftover.owned_by(kind, str(path), owner_of_token(matched["token"])))
    for path in listing(places["partial backup file"]):
        if path.suffix == ".json" and not path.with_suffix(".dump").exists():
            writer = written_by(path)
            if writer is not None:
                found.append(Leftover.owned_by("backup manifest without its dump", str(path), writer))
    for path in listing(settings.data_dir):
        matched = WORK_FOLDER_NAME.fullmatch(path.name)
        if matched and path.is_dir():
            found.append(Leftover.owned_by("legacy work folder", str(path), owner_of_token(matched["token"])))
    for folder, kind in ((OPEN_LOCKS, "open session lock"), (RESTORE_LOCKS, "restore lock")):
        for path in listing(settings.data_dir / folder):
            if path.suffix == ".lock":
                state = OwnerState.ALIVE if is_held(path) else OwnerState.GONE
                found.append(Leftover(kind, str(path), state))
    return found


def written_by(manifest: Path) -> Owner | None:
    """The run that wrote a backup manifest (its `writer`), or None for one that names none."""
    try:
        writer = json.loads(manifest.read_text()).get("writer", "")
    except (OSError, ValueError, AttributeError):
        return None
    return owner_of_token(writer) if isinstance(writer, str) else None


def is_held(path: Path) -> bool:
    """True while a session holds the lock (a lock nobody holds is over, whatever it says)."""
    try:
        with path.open("r") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
    except FileNotFoundError:
        pass
    return False


def find_on_server(backend: Backend) -> list[Leftover]:
    """Scratch and staging databases and load roles on the backend's server."""
    query = f"""
        SELECT coalesce(json_agg(json_build_array(kind, name, note)), '[]') FROM (
            SELECT 'database' AS kind, datname AS name,
                   coalesce(shobj_description(oid, 'pg_database'), '') AS note
            FROM pg_database
            WHERE datname LIKE '{SCRATCH_PREFIX.replace('_', '|_')}%' ESCAPE '|'
               OR datname LIKE '%{STAGING_SUFFIX.replace('_', '|_')}' ESCAPE '|'
            UNION ALL
            SELECT 'role', rolname, coalesce(shobj_description(oid, 'pg_authid'), '')
            FROM pg_roles WHERE rolname LIKE '{LOAD_ROLE_PREFIX.replace('_', '|_')}%' ESCAPE '|'
        ) AS temporary
    """
    found = []
    for kind, name, note in json.loads(backend.tools.query(query).stdout.strip() or "[]"):
        if kind == "role":
            pattern, what = LOAD_ROLE_NAME, "load role"
        elif name.endswith(STAGING_SUFFIX):
            pattern, what = None, "staging database"
        else:
            pattern, what = SCRATCH_NAME, "scratch database"
        # The name first: a dump owns its scratch database and may change its comment, never its
        # name (renaming needs CREATEDB). Only staging databases of older releases go by comment.
        matched = pattern.fullmatch(name) if pattern else None
        owner = owner_of_token(matched["token"]) if matched else owner_in_marker(note)
        found.append(Leftover.owned_by(what, name, owner, note))
    return found


def clean(settings: Settings, backend: Backend | None = None, *, dry: bool = False) -> Cleanup:
    """Remove every leftover whose owner is gone (databases before the roles that own them).

    `backend` None: files only (what needs the server is kept for a run that has it);
    `dry`: remove nothing, list all as kept.
    A removal that fails is reported in `failed`, never raised: clean-up must not stop a task.
    """
    found = find_files(settings)
    if backend is not None and not backend.runner.dry:
        found = find_on_server(backend) + found
    removed, kept, failed = [], [], []
    for item in sorted(found, key=lambda item: item.kind == "load role"):
        needs_server = item.kind in SERVER_KINDS
        if dry or item.state is not OwnerState.GONE or (needs_server and backend is None):
            kept.append(item)
            continue
        try:
            remove(item, backend)
        except (CommandFailed, OSError) as error:
            failed.append(f"could not remove {item.kind} {item.name}: {error}")
            continue
        removed.append(item)
    return Cleanup(removed, kept, failed)


def remove(item: Leftover, backend: Backend | None) -> None:
    """Remove one leftover: drop its database or role, or delete its files."""
    if item.kind.endswith("database"):
        backend.admin.drop_database(item.name)
    elif item.kind == "load role":
        role = quote_identifier(item.name)
        backend.tools.statements([
            terminate_sessions_of(item.name),
            f"DROP ROLE IF EXISTS {role}",
        ])
    elif item.kind == "open session lock":
        remove_open_lock(Path(item.name), backend)
    elif item.kind == "restore lock":
        with open_lock(Path(item.name)):
            pass  # taken only if nobody holds it, and removed on the way out
    else:
        path = Path(item.name)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def remove_open_lock(path: Path, backend: Backend | None) -> None:
    """A killed `invoke open` left its lock, and its throw-away login in the copy: remove both."""
    with open_lock(path) as held:
        if not held:
            return
        database = path.stem
        if backend is not None and backend.admin.database_exists(database):
            backend.manage(["throwaway_login", "remove"], database=database, capture=True)


def listing(folder: Path) -> list[Path]:
    """The entries of `folder`, sorted; none when it does not exist."""
    try:
        return sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
