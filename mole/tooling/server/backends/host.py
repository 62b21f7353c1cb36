"""Backends whose manage.py and client tools run on this machine: `local` and `url`."""
from __future__ import annotations

import sys
from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from tooling.errors import BackendUnavailable
from tooling.process import ProcessRunner
from tooling.server.database_url import DEFAULT_PORT
from tooling.server.database_url import InvalidDatabaseUrl
from tooling.server.database_url import libpq_environment
from tooling.server.database_url import parse_database_url
from tooling.server.local_server import LocalServer
from tooling.server.local_server import binaries_dir

from .base import Backend
from .base import Command

if TYPE_CHECKING:
    from tooling.legacy.load_role import LoadRole


class HostBackend(Backend):
    """Runs `manage.py` with this Python and the client tools of the pinned PostgreSQL major
    (`local_server.binaries_dir`), which read dumps made by that major or any older one.
    """

    def __init__(self, runner: ProcessRunner, database: str, django_dir: Path) -> None:
        super().__init__(runner, database)
        self.django_dir = django_dir

    @abstractmethod
    def client_environment(self) -> dict[str, str]:
        """libpq variables (PGHOST, PGUSER, ...) that reach this backend's server."""

    def manage_command(self, args: list[str], database: str) -> Command:
        """`python manage.py ARGS` in the Django folder, with libpq variables and PGDATABASE."""
        env = {**self.client_environment(), "PGDATABASE": database}
        return Command([sys.executable, "manage.py", *args], env, self.django_dir)

    def client_command(self, tool: str, args: list[str], role: LoadRole | None = None) -> Command:
        """The wheel's TOOL with libpq variables; as `role` (and its password) when given."""
        env = self.client_environment()
        if role is not None:
            env = {**env, "PGUSER": role.name}
            env.pop("PGPASSWORD", None)
            if role.password:
                env["PGPASSWORD"] = role.password
        return Command([str(binaries_dir() / tool), *args], env)

    def web_server_command(
        self, database: str, port: int, env: dict[str, str], media: Path | None
    ) -> Command:
        """`manage.py runserver --noreload 127.0.0.1:PORT`, with `env` and the media folder."""
        served = {**env, **({"MOLE_MEDIA_ROOT": str(media)} if media else {})}
        command = self.manage_command(["runserver", "--noreload", f"127.0.0.1:{port}"], database)
        return Command(command.argv, {**command.env, **served}, command.cwd)

    def is_available(self) -> bool:
        """True when the server takes our login."""
        result = self.tools.answers()
        return result.returncode == 0 and result.stdout.strip() == "1"


class LocalBackend(HostBackend):
    """The local server, started on demand in a project-local folder."""

    name = "local"

    def __init__(
        self, runner: ProcessRunner, database: str, django_dir: Path, data_dir: Path
    ) -> None:
        super().__init__(runner, database, django_dir)
        self.server = LocalServer(data_dir, runner)

    def client_environment(self) -> dict[str, str]:
        return self.server.client_environment()

    def up(self) -> None:
        """Start the local server (initialising its data folder the first time)."""
        self.server.start()

    def down(self) -> None:
        """Stop the local server."""
        self.server.stop()

    def is_available(self) -> bool:
        """True when the local server runs."""
        return self.server.is_running()

    def describe(self) -> str:
        """`local (PostgreSQL with PostGIS, data in FOLDER)`."""
        return f"local (PostgreSQL with PostGIS, data in {self.server.pgdata})"


# Signs in libpq's messages (PostgreSQL docs, "Client Authentication Problems").
LOGIN_REFUSED = ("password authentication failed", "no password supplied", "role ", "pg_hba.conf")
UNREACHABLE = ("Connection refused", "could not translate host name", "timeout expired",
               "No such file or directory", "No route to host", "Network is unreachable")


def first_error(stderr: str) -> str:
    """psql's error, without its prefixes: what the server or libpq said."""
    line = next((line for line in stderr.splitlines() if line.strip()), "psql failed without a message")
    line = line.removeprefix("psql: error: ")
    return line.rpartition(" failed: ")[2].removeprefix("FATAL:").strip()


class UrlBackend(HostBackend):
    """An existing server given by a database URL; its password travels only in PGPASSWORD."""

    name = "url"
    role_needs_password = True

    def __init__(self, runner: ProcessRunner, database: str, django_dir: Path, url: str) -> None:
        usage = "the url backend needs mole.url (or INVOKE_MOLE_URL) like postgresql://user@host:5432/mole"
        try:
            parameters = parse_database_url(url)
        except InvalidDatabaseUrl as error:
            raise BackendUnavailable(f"{usage} (this one cannot be read: {error})") from None
        if not parameters.get("host") and not parameters.get("hostaddr"):
            raise BackendUnavailable(f"{usage} (this one names no host)")
        super().__init__(runner, parameters.pop("dbname", "") or database, django_dir)
        self.parameters = {"port": DEFAULT_PORT, **parameters}

    def client_environment(self) -> dict[str, str]:
        """Every parameter of the URL but its database, as libpq's PG* variables."""
        return libpq_environment(self.parameters)

    def up(self) -> None:
        """Check that the server answers and takes our login; raises BackendUnavailable saying
        which of the two failed, in psql's words (which never hold the password)."""
        if self.runner.dry:
            return
        probe = self.tools.answers(never_prompt=True)
        if probe.returncode == 0:
            return
        reason = first_error(probe.stderr)
        address = self.describe_address()
        if any(sign in reason for sign in LOGIN_REFUSED):
            raise BackendUnavailable(f"the server at {address} refused the login ({reason}): "
                                     "check the user and password in mole.url")
        if any(sign in reason for sign in UNREACHABLE):
            raise BackendUnavailable(f"no PostgreSQL server answers at {address} ({reason})")
        raise BackendUnavailable(f"the server at {address} cannot be used: {reason}")

    def down(self) -> None:
        """The server is not ours to stop."""

    def describe_address(self) -> str:
        """`host:port` of the server (never the user or password)."""
        host = self.parameters.get("host") or self.parameters.get("hostaddr")
        shown = f"[{host}]" if ":" in host and not host.startswith("/") else host
        return f"{shown}:{self.parameters['port']}"

    def describe(self) -> str:
        """`url (host:port)`, never the user or password."""
        return f"url ({self.describe_address()})"
