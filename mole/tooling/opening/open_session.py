"""One `invoke open` session: a copy, a throw-away login, and Mole's web server until Ctrl-C.

The engine reports typed events (`tooling.opening.events`) and never prints itself. Whatever ends
the session (Ctrl-C, SIGTERM, the server failing), the server is stopped and
the login removed; the copy is kept for the next open of the same source.
"""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Iterator

from tooling.debris import OPEN_LOCKS
from tooling.debris import open_lock
from tooling.errors import AlreadyOpen
from tooling.errors import PortInUse
from tooling.errors import ToolingError
from tooling.opening.events import CopyReady
from tooling.opening.events import Report
from tooling.opening.events import Serving
from tooling.opening.events import Stopped
from tooling.opening.opened_copy import OpenedSource
from tooling.opening.opened_copy import copy_database_name
from tooling.opening.opened_copy import prepare_copy
from tooling.server.backends import Backend
from tooling.settings import Settings

READY_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 10
LOGIN_COMMAND = "throwaway_login"


@dataclass(frozen=True)
class ThrowawayLogin:
    """The admin login of one `open` session (the password is never logged)."""

    username: str
    password: str = field(repr=False)


def run_open(
    backend: Backend,
    settings: Settings,
    source: OpenedSource,
    port: int,
    report: Report,
) -> None:
    """Serve a copy of `source` on 127.0.0.1:`port` until interrupted."""
    dry = backend.runner.dry
    if not dry:
        refuse_busy_port(port)
    with only_session_for(settings, copy_database_name(source.kind, source.name)):
        database, restored = prepare_copy(backend, settings, source)
        if not dry:
            report(CopyReady(source.kind, source.name, database, restored))
        login = create_login(backend, database)
        try:
            serve(backend, source, database, port, login, report)
        finally:
            backend.manage([LOGIN_COMMAND, "remove"], database=database, capture=True)
    if not dry:
        report(Stopped(database))


def drop_copy(backend: Backend, settings: Settings, kind: str, name: str) -> str | None:
    """Drop the copy `open` keeps for a bundle or backup; its name, or None if there was none."""
    database = copy_database_name(kind, name)
    with only_session_for(settings, database):
        if not backend.runner.dry and not backend.admin.database_exists(database):
            return None
        backend.admin.drop_database(database)
    return database


def serve(
    backend: Backend,
    source: OpenedSource,
    database: str,
    port: int,
    login: ThrowawayLogin | None,
    report: Report,
) -> None:
    """Run the web server on the copy until Ctrl-C or SIGTERM. Raises ToolingError if it stops on its own."""
    server = backend.start_web_server(database, port, {"MOLE_OPENED": source.banner}, source.media)
    if server is None:
        return
    url = f"http://127.0.0.1:{port}/"
    try:
        with interrupted_by_sigterm():
            wait_until_answering(server, url)
            report(Serving(source.kind, source.name, url, login.username, login.password))
            code = server.wait()
        raise ToolingError(f"the web server stopped on its own (exit status {code})")
    except KeyboardInterrupt:
        pass
    finally:
        stop(server)


def create_login(backend: Backend, database: str) -> ThrowawayLogin | None:
    """Create the session's throw-away admin login (None in a dry run)."""
    created = backend.manage([LOGIN_COMMAND, "create"], database=database, capture=True)
    if backend.runner.dry:
        return None
    fields = json.loads(created.stdout.strip().splitlines()[-1])
    return ThrowawayLogin(fields["username"], fields["password"])


def refuse_busy_port(port: int) -> None:
    """Raises PortInUse when something listens on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the web server itself binds: connections of a session just stopped (TIME_WAIT) do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise PortInUse(f"port {port} on 127.0.0.1 is in use: choose another with --port") from error


@contextmanager
def only_session_for(settings: Settings, database: str) -> Iterator[None]:
    """One session per copy: a second would restore under the first or remove its login.

    The lock goes with the session; a killed session's lock is debris (debris.py)."""
    with open_lock(settings.data_dir / OPEN_LOCKS / f"{database}.lock") as held:
        if not held:
            raise AlreadyOpen(f"this copy is already open in another `invoke open` ({database})")
        yield


def wait_until_answering(server: subprocess.Popen, url: str) -> None:
    """Poll `url` until it answers. Raises ToolingError when the server exits or times out."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ToolingError(f"the web server exited before it answered (exit status {server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.25)
    raise ToolingError(f"the web server did not answer at {url} within {READY_TIMEOUT_SECONDS} s")


def stop(server: subprocess.Popen) -> None:
    """Terminate the web server, killing it after a grace period."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def interrupted_by_sigterm() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so that a stopped session still cleans up."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
