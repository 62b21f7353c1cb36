"""The tooling's exceptions: each carries one line a user can act on."""
from __future__ import annotations

from pathlib import PurePath


class ToolingError(Exception):
    """Base class: anything the tasks report as one clear line and a non-zero exit."""

    # The scratch database a failed run kept, as asked (`--keep-scratch`): the line names it.
    kept_database: str | None = None


class CommandFailed(ToolingError):
    """A child process (manage.py, psql, pg_dump, ...) exited non-zero."""

    def __init__(self, argv: list[str], returncode: int, detail: str = "") -> None:
        self.argv = argv
        self.returncode = returncode
        self.detail = detail
        message = f"{program_of(argv)} failed (exit status {returncode})"
        if detail:
            message += f": {detail}"
        super().__init__(message)


def program_of(argv: list[str]) -> str:
    """The program a user would recognise in a long argv (past `docker compose exec ...`)."""
    known = ("psql", "pg_dump", "pg_restore", "pg_ctl", "initdb", "pg_isready")
    for position, arg in enumerate(argv):
        name = PurePath(arg).name
        if name == "manage.py":
            return " ".join(["manage.py", *argv[position + 1 : position + 2]])
        if name in known:
            return name
    return PurePath(argv[0]).name if argv else "command"


class BackendUnavailable(ToolingError):
    """The chosen backend cannot run here (no Docker, no server, bad URL)."""


class UnsafeName(ToolingError, ValueError):
    """A user-given name would leave its folder or contains unexpected characters."""


class BackupNotFound(ToolingError, FileNotFoundError):
    """No backup of that name exists."""


class ChecksumMismatch(ToolingError):
    """Files differ from what their manifest recorded: `problems` lists each (`x changed`,
    `y is missing`, `z was added`) for `owner` (`backup NAME`, `bundle NAME`)."""

    def __init__(self, owner: str, problems: list[str], *, verdict: str = "was altered") -> None:
        self.owner = owner
        self.problems = tuple(problems)
        super().__init__(f"{owner} {verdict}: {'; '.join(problems)}")


class DatabaseNotFound(ToolingError):
    """The database to act on does not exist on the server."""

    def __init__(self, database: str, advice: str) -> None:
        self.database = database
        super().__init__(f"database {database!r} does not exist: {advice}")


class NotADump(ToolingError, ValueError):
    """The input file is not a dump we can load (empty, truncated, or another kind of file)."""


class DumpTooNew(ToolingError):
    """The dump (`source`) was made by a newer pg_dump (`dump_version`) than the server it would be
    loaded into (`server_version`)."""

    def __init__(self, source: str, dump_version: str, server_version: str) -> None:
        self.source = source
        self.dump_version = dump_version
        self.server_version = server_version
        super().__init__(
            f"{source} was made by pg_dump {dump_version}, newer than this server "
            f"(PostgreSQL {server_version}): load it into a server at least as new as the dump"
        )


class UnsafeArchive(ToolingError, ValueError):
    """An archive member would land outside the folder it is extracted into."""


class NotAMoleDatabase(ToolingError):
    """The dump loaded, but holds no data_collection tables."""


class BundleNotFound(ToolingError, FileNotFoundError):
    """No legacy bundle of that name exists."""


class NoRoom(ToolingError):
    """The bundle or backup folder cannot be written, or has too little free space."""


class ManifestInvalid(ToolingError, ValueError):
    """A backup's or bundle's manifest that cannot be read, is malformed or is too new."""

    def __init__(self, message: str, *, owner: str) -> None:
        super().__init__(message)
        self.owner = owner


class BundleExists(ToolingError, FileExistsError):
    """A bundle of that name exists already; bundles are never overwritten."""


class MigrationNotFound(ToolingError, FileNotFoundError):
    """The custom migration named does not exist in the migrations folder."""


class PortInUse(ToolingError):
    """The port asked for the web server is taken on this machine."""


class AlreadyOpen(ToolingError):
    """The copy is already being served by another `invoke open`."""


class RestoreRunning(ToolingError):
    """Another run is restoring into the same database right now."""


class UnsafeDump(ToolingError):
    """A dump holds something that would act beyond its scratch database, or change its bytes."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class MissingExtension(ToolingError):
    """A dump needs a PostgreSQL extension that the server does not have."""

    def __init__(self, message: str, *, extension: str) -> None:
        super().__init__(message)
        self.extension = extension


class UnstorableText(ToolingError):
    """A dump holds text that the database's encoding cannot store."""

    def __init__(self, message: str, *, table: str, column: str, key: str) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.key = key
