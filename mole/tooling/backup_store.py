"""Backups on disk: `db_backups/backups/<UTC timestamp>_<label>.dump`, each with a JSON manifest.

A dump is written to a hidden temporary file and renamed into place only when
complete, so a failed or interrupted dump leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import IO
from typing import Any
from typing import Iterator

from .debris import partial_path
from .errors import BackupNotFound
from .errors import ChecksumMismatch
from .errors import ToolingError
from .fault_injection import pause_point
from .names import safe_name

DUMP_SUFFIX = ".dump"
MANIFEST_SUFFIX = ".json"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
CHUNK_BYTES = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(path: Path, owner: str) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ToolingError(f"the manifest of {owner} cannot be read: {error}") from error


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Backup:
    name: str
    dump: Path
    manifest: dict[str, Any]

    @property
    def created(self) -> datetime:
        return datetime.strptime(self.manifest["created_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc
        )

    def verify_checksum(self) -> None:
        actual = sha256_of(self.dump)
        if actual != self.manifest.get("sha256"):
            raise ChecksumMismatch(
                f"backup {self.name} is damaged: its sha256 is {actual[:12]}..., "
                f"the manifest says {str(self.manifest.get('sha256'))[:12]}..."
            )


class BackupStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def new_name(self, label: str) -> str:
        name = f"{utc_now().strftime(TIMESTAMP_FORMAT)}_{safe_name(label, 'label')}"
        while (self.folder / f"{name}{DUMP_SUFFIX}").exists():
            name += "_"
        return name

    def get(self, name: str) -> Backup:
        name = safe_name(name.removesuffix(DUMP_SUFFIX), "backup name")
        dump = self.folder / f"{name}{DUMP_SUFFIX}"
        manifest_path = self.folder / f"{name}{MANIFEST_SUFFIX}"
        if not dump.is_file() or not manifest_path.is_file():
            raise BackupNotFound(f"no backup named {name!r} in {self.folder}")
        return Backup(name, dump, read_manifest(manifest_path, f"backup {name}"))

    def all(self) -> list[Backup]:
        """Every complete backup, oldest first."""
        if not self.folder.is_dir():
            return []
        backups = []
        for dump in self.folder.glob(f"*{DUMP_SUFFIX}"):
            try:
                backups.append(self.get(dump.stem))
            except ToolingError:
                continue
        # Names start with a timestamp to the second; within one second, write order decides.
        return sorted(backups, key=lambda backup: (backup.manifest.get("created_utc", ""),
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

        Only if the block succeeds are the dump and its manifest (completed with
        sha256 and size) renamed into place; otherwise both temporaries go.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ToolingError(f"cannot create the backup folder {self.folder}: {error.strerror}") from error
        final = self.folder / f"{name}{DUMP_SUFFIX}"
        manifest_path = self.folder / f"{name}{MANIFEST_SUFFIX}"
        partial = partial_path(final)
        partial_manifest = partial_path(manifest_path)
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
            manifest.update(
                file=final.name, sha256=sha256_of(partial), size_bytes=partial.stat().st_size
            )
            partial_manifest.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            partial.replace(final)
            partial_manifest.replace(manifest_path)
        except OSError as error:
            final.unlink(missing_ok=True)
            raise ToolingError(f"cannot write backup {name}: {error.strerror or error}") from error
        finally:
            partial.unlink(missing_ok=True)
            partial_manifest.unlink(missing_ok=True)
