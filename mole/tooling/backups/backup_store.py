"""Backups on disk: `db_backups/backups/<UTC timestamp>_<label>.dump`, each with a JSON manifest.

A dump is written to a hidden temporary file and renamed into place only when
complete, so a failed or interrupted dump leaves nothing behind.
"""
from __future__ import annotations

import errno
import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO
from typing import Any
from typing import Iterator

from tooling.debris import partial_path
from tooling.errors import BackupNotFound
from tooling.errors import ChecksumMismatch
from tooling.errors import ToolingError
from tooling.fault_injection import pause_point
from tooling.manifests import Manifest
from tooling.manifests import manifest_text
from tooling.manifests import parse_timestamp
from tooling.manifests import read_manifest
from tooling.manifests import utc_now
from tooling.manifests import versioned
from tooling.names import safe_name
from tooling.owner import this_process

DUMP_SUFFIX = ".dump"
MANIFEST_SUFFIX = ".json"
NAME_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # names sort by time and hold no ':'

CHUNK_BYTES = 1 << 20


def sha256_of(path: Path) -> str:
    """The file's sha256 as hex, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Backup:
    """One complete backup: its name, its dump file and its checked manifest."""

    name: str
    dump: Path
    manifest: Manifest

    @property
    def created(self) -> datetime:
        """When it was made (aware, UTC), from its manifest."""
        return parse_timestamp(self.manifest["created_utc"])

    def verify_checksum(self) -> None:
        """Raises ChecksumMismatch when the dump's sha256 is not the manifest's."""
        actual = sha256_of(self.dump)
        if actual != self.manifest.get("sha256"):
            raise ChecksumMismatch(
                f"backup {self.name}",
                [f"its sha256 is {actual[:12]}..., the manifest says {self.manifest['sha256'][:12]}..."],
                verdict="is damaged",
            )


class BackupStore:
    """The backups in one folder (`db_backups/backups/`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.skipped: list[str] = []  # why `all()` left a backup out (an invalid manifest)

    def new_name(self, label: str) -> str:
        """`<UTC timestamp>_<label>`, free for both files. Raises UnsafeName for a bad label."""
        return self.free_name(f"{utc_now().strftime(NAME_TIMESTAMP_FORMAT)}_{safe_name(label, 'label')}")

    def free_name(self, name: str) -> str:
        """`name`, or `name` with underscores added until neither its dump nor its manifest exists."""
        while any((self.folder / f"{name}{suffix}").exists() for suffix in (DUMP_SUFFIX, MANIFEST_SUFFIX)):
            name += "_"
        return name

    def get(self, name: str) -> Backup:
        """The backup `name`. Raises BackupNotFound, UnsafeName or ManifestInvalid."""
        name = safe_name(name.removesuffix(DUMP_SUFFIX), "backup name")
        dump = self.folder / f"{name}{DUMP_SUFFIX}"
        manifest_path = self.folder / f"{name}{MANIFEST_SUFFIX}"
        if not dump.is_file() or not manifest_path.is_file():
            raise BackupNotFound(f"no backup named {name!r} in {self.folder}")
        return Backup(name, dump, read_manifest(manifest_path, "backup", f"backup {name}"))

    def all(self) -> list[Backup]:
        """Every complete backup with a valid manifest, oldest first; `skipped` says why others
        were left out."""
        self.skipped = []
        if not self.folder.is_dir():
            return []
        backups = []
        for dump in self.folder.glob(f"*{DUMP_SUFFIX}"):
            try:
                backups.append(self.get(dump.stem))
            except BackupNotFound:
                continue
            except ToolingError as error:
                self.skipped.append(str(error))
        # Names start with a timestamp to the second; within one second, write order decides.
        return sorted(backups, key=lambda backup: (backup.manifest["created_utc"],
                                                   backup.dump.stat().st_mtime_ns))

    def beyond(self, keep: int) -> list[Backup]:
        """The backups older than the newest `keep`."""
        if keep < 0:
            raise ToolingError("--keep must be zero or more")
        backups = self.all()
        return backups[: max(0, len(backups) - keep)]

    def prune(self, keep: int) -> list[Backup]:
        """Delete all but the newest `keep` backups; returns those deleted."""
        doomed = self.beyond(keep)
        for backup in doomed:
            backup.dump.unlink()
            (self.folder / f"{backup.name}{MANIFEST_SUFFIX}").unlink(missing_ok=True)
        return doomed

    @contextmanager
    def writing(self, name: str, manifest: dict[str, Any]) -> Iterator[IO[bytes]]:
        """An open temporary file for the dump.

        Only if the block succeeds are the manifest (completed with sha256 and size) and then
        the dump linked into place, never over an existing file: a backup of the same name
        made meanwhile keeps it, and this one takes the next free name (`manifest["name"]`
        says which). A backup is complete once its dump is there; a kill between the two
        leaves a manifest naming its writer, which the clean-up of killed runs removes.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ToolingError(f"cannot create the backup folder {self.folder}: {error.strerror}") from error
        partial = partial_path(self.folder / f"{name}{DUMP_SUFFIX}")
        partial_manifest = partial_path(self.folder / f"{name}{MANIFEST_SUFFIX}")
        try:
            stream = partial.open("xb")
        except OSError as error:
            raise ToolingError(f"cannot write in {self.folder}: {error.strerror}") from error
        try:
            with stream:
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
            pause_point("backup-written")
            manifest.update(sha256=sha256_of(partial), size_bytes=partial.stat().st_size,
                            writer=this_process().token)
            self.commit(partial, partial_manifest, manifest)
        except OSError as error:
            raise ToolingError(f"cannot write backup {name}: {error.strerror or error}") from error
        finally:
            partial.unlink(missing_ok=True)
            partial_manifest.unlink(missing_ok=True)

    def commit(self, partial: Path, partial_manifest: Path, manifest: dict[str, Any]) -> None:
        """Link the manifest, then the dump, under the first name free for both."""
        while True:
            name = self.free_name(manifest["name"])
            manifest.update(name=name, file=f"{name}{DUMP_SUFFIX}")
            partial_manifest.write_text(manifest_text(versioned(manifest)))
            manifest_path = self.folder / f"{name}{MANIFEST_SUFFIX}"
            try:
                place_exclusively(partial_manifest, manifest_path)
            except FileExistsError:
                continue
            pause_point("backup-manifest-placed")
            try:
                place_exclusively(partial, self.folder / manifest["file"])
            except FileExistsError:
                manifest_path.unlink()
                continue
            return


def place_exclusively(source: Path, target: Path) -> None:
    """Give `source` the name `target`, never over an existing file: a hard link (atomic and
    exclusive, link(2)); where the filesystem has none, a rename after a check.

    Raises FileExistsError if `target` exists."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if target.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from error
        os.rename(source, target)
