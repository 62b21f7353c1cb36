"""The local server: Debian's PostgreSQL with PostGIS, run by the project itself.

Its data lives in a project-local folder; it is started on demand, reused
while it runs and stopped by `invoke down`. It listens on a Unix socket only,
in a short directory under the system's temp folder (socket paths are limited
to about 107 bytes), so it never meets Debian's own cluster (`/var/run/postgresql`,
TCP port 5432). PostgreSQL refuses to run as root, so as root the server runs as a
dedicated system user. `make setup` installs the packages (`scripts/install_postgres.sh`).
"""
from __future__ import annotations

import hashlib
import os
import pwd
import shlex
import stat
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tooling.errors import BackendUnavailable
from tooling.process import ProcessRunner
from tooling.server.extensions import MOLE_EXTENSIONS
from tooling.server.extensions import create_extensions_sql
from tooling.server.extensions import readable_extension_schemas_sql

SERVICE_USER = "mole-postgres"
SUPERUSER = "postgres"
PORT = "5432"
NOT_RUNNING = 3
USERADD_EXISTS = 9  # useradd(8): the user name is already in use
# The pin shared with `make setup` and the Compose stack (mole/tooling/server/ -> repository root).
MAJOR_PIN = Path(__file__).resolve().parents[3] / "compose" / ".env"
# Debian's layout for each installed major (postgresql-common).
DEBIAN_BINARIES = "/usr/lib/postgresql/{major}/bin"
DEBIAN_EXTENSIONS = "/usr/share/postgresql/{major}/extension"


@cache
def postgres_major() -> str:
    """PostgreSQL's major release, e.g. "15": `POSTGRES_MAJOR` in compose/.env.

    Raises BackendUnavailable when the file does not pin it.
    """
    try:
        lines = MAJOR_PIN.read_text().splitlines()
    except OSError as error:
        raise BackendUnavailable(f"cannot read the PostgreSQL pin {MAJOR_PIN}: {error.strerror}") from error
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "POSTGRES_MAJOR" and value.strip().isdigit():
            return value.strip()
    raise BackendUnavailable(f"{MAJOR_PIN} does not pin POSTGRES_MAJOR")


def binaries_dir() -> Path:
    """Where Debian keeps initdb, pg_ctl, psql, pg_dump and pg_restore of the pinned major.

    Raises BackendUnavailable when that PostgreSQL or its PostGIS is not installed.
    """
    major = postgres_major()
    binaries = Path(DEBIAN_BINARIES.format(major=major))
    extensions = Path(DEBIAN_EXTENSIONS.format(major=major))
    missing = [name for name in MOLE_EXTENSIONS if not (extensions / f"{name}.control").exists()]
    if not (binaries / "postgres").exists() or missing:
        raise BackendUnavailable(
            f"PostgreSQL {major} with PostGIS is not installed here: run `make setup` "
            "(as root or with sudo; it installs Debian's packages)"
        )
    return binaries


@dataclass
class LocalServer:
    """One local server, identified by its data folder. `settings` are extra server settings
    for `postgres -c` (the test suite's throwaway server trades durability for speed)."""

    data_dir: Path
    runner: ProcessRunner
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def pgdata(self) -> Path:
        """The server's data folder."""
        return self.data_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        """The server's log file."""
        return self.data_dir / "postgres.log"

    @property
    def socket_dir(self) -> Path:
        """The short folder of its Unix socket (paths are limited to about 107 bytes)."""
        digest = hashlib.sha256(str(self.pgdata.resolve()).encode()).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"mole-pg-{digest}"

    @property
    def service_user(self) -> str | None:
        """The user the server runs as when we are root (PostgreSQL refuses root), else None."""
        return SERVICE_USER if os.geteuid() == 0 else None

    def tool(self, name: str) -> str:
        """The path of one of the server's programs (initdb, pg_ctl, psql, ...)."""
        return str(binaries_dir() / name)

    def client_environment(self) -> dict[str, str]:
        """libpq variables that reach this server; no password is needed on its socket."""
        return {"PGHOST": str(self.socket_dir), "PGPORT": PORT, "PGUSER": SUPERUSER}

    def is_initialized(self) -> bool:
        """True when its data folder holds a cluster."""
        return (self.pgdata / "PG_VERSION").exists()

    def is_running(self) -> bool:
        """True when its server answers on its socket."""
        if not self.is_initialized():
            return False
        result = self.runner.run(
            [self.tool("pg_ctl"), "status", "-D", str(self.pgdata)],
            capture=True,
            check=False,
            user=self.service_user,
            probe=True,
        )
        return result.returncode == 0

    def start(self) -> None:
        """Initialize on first use, then start unless already running."""
        if self.is_running():
            return
        if not self.runner.dry:
            self._refuse_other_major()  # before anything in the folder changes hands
            self._prepare_folders()
        if not self.is_initialized():
            self.runner.run(
                [
                    self.tool("initdb"),
                    "-D", str(self.pgdata),
                    "-U", SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                capture=True,
                cwd=self.data_dir,
                user=self.service_user,
            )
        extra = [option for name, value in self.settings for option in ("-c", f"{name}={value}")]
        server_options = shlex.join(
            ["-c", "listen_addresses=", "-c", f"unix_socket_directories={self.socket_dir}", *extra]
        )
        self.runner.run(
            [
                self.tool("pg_ctl"), "start", "-w", "-t", "60",
                "-D", str(self.pgdata),
                "-l", str(self.log_file),
                "-o", server_options,
            ],
            capture=True,
            cwd=self.data_dir,
            user=self.service_user,
        )
        # Databases are created from template1: with the extensions there, each one has them (and
        # a url backend's user that is no superuser can still dump them).
        self.runner.run(
            [self.tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname=template1",
             "-c", f"{create_extensions_sql()}; {readable_extension_schemas_sql()}"],
            env=self.client_environment(),
            capture=True,
        )

    def stop(self) -> bool:
        """Stop the server; False when it was not running."""
        if not self.is_running():
            return False
        self.runner.run(
            [self.tool("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.pgdata)],
            capture=True,
            cwd=self.data_dir,
            user=self.service_user,
        )
        # The socket folder lives in /tmp (short paths); leave nothing behind there.
        try:
            self.socket_dir.rmdir()
        except OSError:
            pass
        return True

    def _refuse_other_major(self) -> None:
        """A data folder of another major cannot be started by this one's server: say so."""
        version_file = self.pgdata / "PG_VERSION"
        if not version_file.exists():
            return
        found = version_file.read_text().strip()
        if found != postgres_major():
            raise BackendUnavailable(
                f"{self.pgdata} holds a PostgreSQL {found} cluster; this project runs PostgreSQL "
                f"{postgres_major()}: back up its databases with PostgreSQL {found}'s pg_dump, "
                f"then remove {self.pgdata}"
            )

    def _prepare_folders(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if self.service_user is None:
            return
        self._ensure_service_user()
        account = pwd.getpwnam(self.service_user)
        for folder in (self.data_dir, self.socket_dir):
            os.chown(folder, account.pw_uid, account.pw_gid)
        if self.log_file.exists():
            os.chown(self.log_file, account.pw_uid, account.pw_gid)
        allow_traversal(self.data_dir)

    def _ensure_service_user(self) -> None:
        try:
            pwd.getpwnam(self.service_user)
        except KeyError:
            added = self.runner.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 self.service_user],
                capture=True,
                check=False,
            )
            # Another server starting at the same instant may have added it (useradd's status 9).
            if added.returncode not in (0, USERADD_EXISTS):
                raise BackendUnavailable(f"useradd {self.service_user} failed: {added.stderr.strip()}")


def allow_traversal(path: Path) -> None:
    """Let the service user reach `path` by adding o+x to each parent that lacks it."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
