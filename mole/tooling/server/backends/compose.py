"""The Compose backend: Django and PostgreSQL in containers, reached by `docker compose exec -T`.

`-T` always: output is captured or streamed, and a TTY would corrupt dumps.
"""
from __future__ import annotations

import time
from pathlib import Path
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from tooling.errors import BackendUnavailable
from tooling.process import ProcessRunner

from .base import Backend
from .base import Command

if TYPE_CHECKING:
    from tooling.legacy.load_role import LoadRole

DJANGO_SERVICE = "django"
# Where compose/docker-compose.yml mounts the project's folders inside the django service.
CONTAINER_PROJECT = PurePosixPath("/app")
MOUNTED_FOLDERS = ("mole", "db_backups")
CONTAINER_WEB_PORT = 8000
POSTGRES_SERVICE = "postgres"
READY_TIMEOUT_SECONDS = 90


def compose_program(runner: ProcessRunner) -> list[str]:
    """`docker compose` (v2) when it answers, else `docker-compose` (v1)."""
    for program in (["docker", "compose"], ["docker-compose"]):
        probe = runner.run([*program, "version"], capture=True, check=False, probe=True)
        if probe.returncode == 0:
            return program
    raise BackendUnavailable("neither `docker compose` nor `docker-compose` is available")


class ComposeBackend(Backend):
    """Django and PostgreSQL in the Compose stack's containers, reached by `docker compose exec -T`."""

    name = "compose"

    def __init__(
        self,
        runner: ProcessRunner,
        database: str,
        compose_file: Path,
        database_user: str,
        program: list[str] | None = None,
    ) -> None:
        super().__init__(runner, database)
        self.compose_file = compose_file
        self.database_user = database_user
        self._program = program

    @property
    def program(self) -> list[str]:
        """`docker compose` or `docker-compose`, probed once."""
        if self._program is None:
            self._program = compose_program(self.runner)
        return self._program

    def compose(self, *args: str) -> list[str]:
        """The one place that builds a `docker compose` command line."""
        return [*self.program, "-f", str(self.compose_file), *args]

    def manage_command(self, args: list[str], database: str) -> Command:
        """`docker compose exec -T -e PGDATABASE=db django python manage.py ARGS`."""
        return Command(self.compose(
            "exec", "-T", "-e", f"PGDATABASE={database}",
            DJANGO_SERVICE, "python", "manage.py", *args,
        ))

    def client_command(self, tool: str, args: list[str], role: LoadRole | None = None) -> Command:
        # Inside the postgres container the Unix socket trusts local users: no password travels.
        """`docker compose exec -T -e PGUSER=user postgres TOOL ARGS` (the socket trusts local users)."""
        user = role.name if role is not None else self.database_user
        return Command(self.compose("exec", "-T", "-e", f"PGUSER={user}", POSTGRES_SERVICE, tool, *args))

    def web_server_command(
        self, database: str, port: int, env: dict[str, str], media: Path | None
    ) -> Command:
        """A one-off django container (`run --rm`) publishing its port on the host's loopback only."""
        served = {**env, "PGDATABASE": database}
        container_media = self.container_path(media) if media else None
        if container_media:
            served["MOLE_MEDIA_ROOT"] = str(container_media)
        settings = [arg for name, value in sorted(served.items()) for arg in ("-e", f"{name}={value}")]
        return Command(self.compose(
            "run", "--rm", "-T", "--no-deps", "-p", f"127.0.0.1:{port}:{CONTAINER_WEB_PORT}", *settings,
            DJANGO_SERVICE, "python", "manage.py", "runserver", "--noreload", f"0.0.0.0:{CONTAINER_WEB_PORT}",
        ))

    def container_path(self, host_path: Path) -> PurePosixPath | None:
        """The django container's path for a host path in a mounted folder; None when not mounted."""
        project = self.compose_file.resolve().parent.parent
        try:
            relative = host_path.resolve().relative_to(project)
        except ValueError:
            return None
        if not relative.parts or relative.parts[0] not in MOUNTED_FOLDERS:
            return None
        return CONTAINER_PROJECT.joinpath(*relative.parts)

    def running_services(self) -> set[str]:
        """The names of the stack's running services."""
        result = self.runner.run(
            self.compose("ps", "--services", "--filter", "status=running"),
            capture=True, check=False, probe=True,
        )
        if result.returncode != 0:
            return set()
        return set(result.stdout.split())

    def is_available(self) -> bool:
        """True when both the django and postgres services run."""
        return {DJANGO_SERVICE, POSTGRES_SERVICE} <= self.running_services()

    def up(self) -> None:
        """`docker compose up -d --build`, then wait for pg_isready (at most 90 s).
        Raises BackendUnavailable when it does not become ready."""
        self.runner.run(self.compose("up", "-d", "--build"))
        if self.runner.dry:
            return
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            ready = self.runner.run(
                self.compose("exec", "-T", POSTGRES_SERVICE, "pg_isready",
                             f"--username={self.database_user}"),
                capture=True, check=False,
            )
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise BackendUnavailable(
                    f"the postgres service did not become ready within {READY_TIMEOUT_SECONDS} s"
                )
            time.sleep(1)

    def down(self) -> None:
        """`docker compose down` (volumes kept)."""
        self.runner.run(self.compose("down"))

    def ensure_ready(self) -> list[str]:
        """The stack is the user's to start: say so rather than build images unasked.

        Then make sure the live database exists, as the other backends do.
        """
        if not self.runner.dry and not self.is_available():
            raise BackendUnavailable(
                f"the Compose stack ({self.compose_file.name}) is not running: "
                "run `invoke up --backend compose`"
            )
        return self.prepare_live_database()

    def describe(self) -> str:
        """`compose (docker compose -f FILE)`."""
        return f"compose ({' '.join(self.program)} -f {self.compose_file})"
