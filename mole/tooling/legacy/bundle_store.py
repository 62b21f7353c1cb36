"""Legacy bundles on disk: `db_backups/bundles/<name>/`, each whole or not there at all.

A bundle is written into a hidden temporary folder next to its final place and
renamed in one step when complete. `manifest.json` lists the sha256 of every
other file, so a bundle can be checked at any time; `manifest.json.sha256`
(the format of `sha256sum`) holds the manifest's own. That catches a manifest
that was edited or damaged; it cannot stop someone who rewrites both files, so
`invoke legacy` also prints the manifest's sha256 for the user to keep elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Iterator

from tooling.backups.backup_store import CHUNK_BYTES
from tooling.backups.backup_store import sha256_of
from tooling.debris import partial_path
from tooling.errors import BundleExists
from tooling.errors import BundleNotFound
from tooling.errors import ChecksumMismatch
from tooling.errors import NoRoom
from tooling.errors import NotADump
from tooling.errors import ToolingError
from tooling.fault_injection import pause_point
from tooling.manifests import manifest_text
from tooling.manifests import read_manifest
from tooling.manifests import versioned
from tooling.names import safe_name

MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.json.sha256"
MIGRATED_DUMP = "migrated.dump"


def file_checksums(folder: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """sha256 of every file below `folder` but the manifest, by relative POSIX path; `known` gives
    those of files hashed as they were written (not read again)."""
    checksums = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative not in (MANIFEST, MANIFEST_SUM):
            checksums[relative] = (known or {}).get(relative) or sha256_of(path)
    return checksums


class CopyStopped(Exception):
    """A copy was stopped before its end (the run it was for is ending)."""


def copy_hashing(source: Path, target: Path, stop: threading.Event) -> str:
    """Copy the regular file `source` to the new file `target` in 1 MiB chunks, with its times and
    mode; returns the sha256 of the bytes written. Raises CopyStopped once `stop` is set, NotADump
    for anything but a regular file (a FIFO is neither waited for nor read), OSError as the OS does."""
    digest = hashlib.sha256()
    with open(os.open(source, os.O_RDONLY | os.O_NONBLOCK), "rb") as reading:
        if not stat.S_ISREG(os.fstat(reading.fileno()).st_mode):
            raise NotADump(f"{source} is not a file")
        with target.open("xb") as writing:
            for chunk in iter(lambda: reading.read(CHUNK_BYTES), b""):
                if stop.is_set():
                    raise CopyStopped(str(source))
                digest.update(chunk)
                writing.write(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest()


@dataclass(frozen=True)
class Bundle:
    """One legacy bundle: its folder and its checked manifest."""

    name: str
    folder: Path
    manifest: dict[str, Any]

    @property
    def migrated_dump(self) -> Path:
        """The path of the migrated database's custom-format dump."""
        return self.folder / MIGRATED_DUMP

    def verify_checksums(self) -> None:
        """Every file the manifest lists is there and unchanged, and no file was added."""
        recorded = self.manifest.get("files", {})
        actual = file_checksums(self.folder)
        problems = [f"{path} is missing" for path in recorded if path not in actual]
        problems += [
            f"{path} changed" for path in recorded if path in actual and actual[path] != recorded[path]
        ]
        problems += [f"{path} was added" for path in actual if path not in recorded]
        problems += self.manifest_problems()
        if problems:
            raise ChecksumMismatch(f"bundle {self.name}", problems)


    def manifest_problems(self) -> list[str]:
        """The manifest against its own checksum; bundles made before it had one declare none."""
        if not self.manifest.get("manifest_checksum"):
            return []
        summed = self.folder / MANIFEST_SUM
        if not summed.is_file():
            return [f"{MANIFEST_SUM} is missing"]
        recorded = summed.read_text().split(maxsplit=1)[0] if summed.read_text().strip() else ""
        return [] if recorded == sha256_of(self.folder / MANIFEST) else [f"{MANIFEST} changed"]

    @property
    def manifest_sha256(self) -> str:
        """The manifest's own sha256, for the user to keep elsewhere."""
        return sha256_of(self.folder / MANIFEST)


class BundleStore:
    """The bundles in one folder (`db_backups/bundles/`); each appears whole or not at all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.skipped: list[str] = []  # why `all()` left a bundle out (an invalid manifest)

    def check_room(self, needed_bytes: int) -> None:
        """Refuse before any work if bundles cannot be written here or `needed_bytes` are not free.

        Raises NoRoom (a ToolingError)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise NoRoom(f"cannot create the bundle folder {self.folder}: {error.strerror}") from error
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise NoRoom(f"cannot write in the bundle folder {self.folder}")
        free = shutil.disk_usage(self.folder).free
        if free < needed_bytes:
            raise NoRoom(f"{self.folder} has {free / 2**20:.0f} MiB free; the bundle needs about "
                         f"{needed_bytes / 2**20:.0f} MiB (the original and the migrated dump): "
                         "make room first")

    def path_of(self, name: str) -> Path:
        """The folder of bundle `name`. Raises UnsafeName."""
        return self.folder / safe_name(name, "bundle name")

    def get(self, name: str) -> Bundle:
        """The bundle `name`. Raises BundleNotFound, UnsafeName or ManifestInvalid."""
        folder = self.path_of(name)
        manifest_path = folder / MANIFEST
        if not manifest_path.is_file():
            raise BundleNotFound(f"no bundle named {name!r} in {self.folder}")
        return Bundle(name, folder, read_manifest(manifest_path, "bundle", f"bundle {name}"))

    def all(self) -> list[Bundle]:
        """Every bundle with a valid manifest, oldest first; `skipped` says why others were left out."""
        self.skipped = []
        if not self.folder.is_dir():
            return []
        bundles = []
        for folder in sorted(self.folder.iterdir()):
            if folder.is_dir() and not folder.name.startswith(".") and (folder / MANIFEST).is_file():
                try:
                    bundles.append(self.get(folder.name))
                except ToolingError as error:
                    self.skipped.append(str(error))
        return sorted(bundles, key=lambda bundle: bundle.manifest["created_utc"])

    def free_name(self, wanted: str, *, exact: bool) -> str:
        """`wanted` if unused; taken, an exact name is refused and a default one gets a suffix."""
        safe_name(wanted, "bundle name")
        if not self.path_of(wanted).exists():
            return wanted
        if exact:
            raise BundleExists(f"bundle {wanted!r} exists already: bundles are never overwritten")
        number = 2
        while self.path_of(f"{wanted}-{number}").exists():
            number += 1
        return f"{wanted}-{number}"

    @contextmanager
    def file_in_progress(self, name: str, file_name: str) -> Iterator[Path]:
        """A hidden path beside the bundles for `file_name` of bundle `name`, written before the
        bundle is (on the same file system, so `creating`'s block moves it in at no cost); removed
        after the block unless moved. Raises ToolingError when the folder cannot be written."""
        path = partial_path(self.path_of(name).with_name(f"{name}.{file_name}"))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ToolingError(f"cannot write in {self.folder}: {error.strerror}") from error
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    @contextmanager
    def creating(
        self, name: str, manifest: dict[str, Any], known: dict[str, str] | None = None
    ) -> Iterator[Path]:
        """A temporary folder to fill; on success the manifest is added and it becomes the bundle.
        `known`: the sha256 of files moved in that were hashed as they were written (`copy_hashing`),
        by path in the bundle."""
        final = self.path_of(name)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = partial_path(final)
            partial.mkdir()
        except OSError as error:
            raise ToolingError(f"cannot write in {self.folder}: {error.strerror}") from error
        try:
            yield partial
            pause_point("bundle-written")
            manifest["files"] = file_checksums(partial, known)
            manifest["manifest_checksum"] = MANIFEST_SUM
            (partial / MANIFEST).write_text(manifest_text(versioned(manifest)))
            (partial / MANIFEST_SUM).write_text(f"{sha256_of(partial / MANIFEST)}  {MANIFEST}\n")
            if final.exists():
                raise BundleExists(f"bundle {name!r} appeared while this one was written; nothing replaced")
            os.rename(partial, final)
        except OSError as error:
            raise ToolingError(f"cannot write bundle {name}: {error.strerror or error}") from error
        finally:
            shutil.rmtree(partial, ignore_errors=True)
