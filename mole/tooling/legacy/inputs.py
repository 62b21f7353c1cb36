"""What a legacy input file is, judged by its first bytes.

Accepted: pg_dump plain SQL (with or without `--create`), the same gzip-compressed,
pg_dump custom format, and Mole's archive (a tar or tar.gz holding one `.sql`
and a `mole_media/` folder). Archive members are all checked before anything is
extracted. pg_dumpall output is refused.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from pathlib import PurePosixPath
from typing import Callable

from tooling.errors import NotADump
from tooling.errors import UnsafeArchive

PLAIN_SQL = "plain SQL"
GZIP_SQL = "gzip-compressed SQL"
CUSTOM = "pg_dump custom format"
MOLE_ARCHIVE = "Mole archive"

PG_DUMP_HEADER = b"PostgreSQL database dump"
PG_DUMPALL_HEADER = b"PostgreSQL database cluster dump"
MEDIA_FOLDER = "mole_media"
SNIFF_BYTES = 8192

Progress = Callable[[int, int], None]


DUMPED_BY = re.compile(rb"^-- Dumped by pg_dump version (\S+)", re.MULTILINE)


@dataclass(frozen=True)
class LegacyInput:
    """An input file: its path, its kind (detected from its first bytes), size in bytes, and
    the pg_dump version its header names."""

    path: Path
    kind: str
    size: int
    dumped_by: str | None = None  # pg_dump's version, when the header says it (SQL dumps)


def dumped_by(head: bytes) -> str | None:
    """The pg_dump version a plain-SQL header names (`-- Dumped by pg_dump version 15.4`), or None."""
    match = DUMPED_BY.search(head)
    return match.group(1).decode(errors="replace") if match else None


def is_tar(head: bytes) -> bool:
    """True for a tar archive (the `ustar` magic at offset 257)."""
    return len(head) >= 262 and head[257:262] == b"ustar"


def looks_like_sql(head: bytes) -> bool:
    """True when the first bytes read as text a pg_dump script could start with."""
    return PG_DUMP_HEADER in head and b"\x00" not in head


def refuse_cluster_dump(path: Path, head: bytes) -> None:
    """pg_dumpall output holds roles and several databases: it is not one experiment."""
    if PG_DUMPALL_HEADER in head:
        raise NotADump(
            f"{path} is a whole-cluster dump made by pg_dumpall (roles and every database); make a dump "
            "of the Mole database alone: pg_dump --dbname=mole --file=mole.sql (or --format=custom)"
        )


def detect(path: Path) -> LegacyInput:
    """Name the input's format from its content; refuse anything else in one line."""
    try:
        # Non-blocking: a FIFO (or a device) is refused at once, neither waited for nor read.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as stream:
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise NotADump(f"{path} is not a file")
            size = status.st_size
            head = stream.read(SNIFF_BYTES)
    except OSError as error:
        raise NotADump(f"cannot read {path}: {error.strerror}") from error
    if not head:
        raise NotADump(f"{path} is empty")
    if head.startswith(b"PGDMP"):
        return LegacyInput(path, CUSTOM, size)
    if head.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as stream:
                inner = stream.read(SNIFF_BYTES)
        except (OSError, EOFError) as error:
            raise NotADump(f"{path} is a damaged gzip file: {error}") from error
        if is_tar(inner):
            return LegacyInput(path, MOLE_ARCHIVE, size)
        refuse_cluster_dump(path, inner)
        if looks_like_sql(inner):
            return LegacyInput(path, GZIP_SQL, size, dumped_by(inner))
        raise NotADump(f"{path} is gzip-compressed but holds neither a pg_dump SQL file nor a tar archive")
    if is_tar(head):
        return LegacyInput(path, MOLE_ARCHIVE, size)
    refuse_cluster_dump(path, head)
    if looks_like_sql(head):
        return LegacyInput(path, PLAIN_SQL, size, dumped_by(head))
    raise NotADump(
        f"{path} is not a PostgreSQL dump: it is neither pg_dump SQL (plain or gzip), "
        "pg_dump custom format nor a Mole archive"
    )


@dataclass(frozen=True)
class ExtractedArchive:
    """A Mole archive unpacked: its SQL dump and its media folder (if it has one)."""

    sql: LegacyInput
    media: Path | None


def check_member(member: tarfile.TarInfo, archive: Path) -> None:
    """Raises UnsafeArchive for a member with an absolute path, `..`, or that is no plain file or folder."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise UnsafeArchive(f"{archive}: member {member.name!r} would be written outside the folder")
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchive(f"{archive}: member {member.name!r} is a link or device, not a file")


def extract_archive(legacy: LegacyInput, into: Path) -> ExtractedArchive:
    """Check every member, then extract; the archive must hold exactly one `.sql` file."""
    try:
        with tarfile.open(legacy.path, "r:*") as archive:
            members = archive.getmembers()
            for member in members:
                check_member(member, legacy.path)
            if any(PurePosixPath(m.name).name == "toc.dat" for m in members):
                raise NotADump(
                    f"{legacy.path} is a pg_dump tar-format archive, which is not supported: "
                    "make a custom-format (-Fc) or plain SQL dump instead"
                )
            sql_members = [m for m in members if m.isfile() and m.name.endswith(".sql")]
            if len(sql_members) != 1:
                raise NotADump(
                    f"{legacy.path}: a Mole archive holds exactly one .sql file, this one holds "
                    f"{len(sql_members)}"
                )
            archive.extractall(into, filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise NotADump(f"{legacy.path} is a damaged archive: {error}") from error
    media = media_folder(members, into)
    sql = detect(into / sql_members[0].name)
    if sql.kind not in (PLAIN_SQL, GZIP_SQL):
        raise NotADump(f"{legacy.path}: its .sql member is not pg_dump SQL")
    return ExtractedArchive(sql, media)


def media_folder(members: list[tarfile.TarInfo], into: Path) -> Path | None:
    """The extracted `mole_media/` folder, found by path (archives may omit folder entries)."""
    for member in members:
        parts = PurePosixPath(member.name).parts
        if MEDIA_FOLDER in parts[:-1] or (member.isdir() and parts and parts[-1] == MEDIA_FOLDER):
            return into.joinpath(*parts[: parts.index(MEDIA_FOLDER) + 1])
    return None
