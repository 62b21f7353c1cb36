"""Driving `invoke open` from tests: start it, read what it printed, talk HTTP to it, stop it with Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from conftest import INVOKE

READY_LINE = "Press Ctrl-C to stop."
LOGIN_LINE = re.compile(r"Admin: (?P<url>\S+)admin/\s+user (?P<username>\S+)\s+password (?P<password>\S+)")
START_TIMEOUT_SECONDS = 180
COPY_DATABASES = "SELECT datname FROM pg_database WHERE datname LIKE 'mole_open_%' ORDER BY datname"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def copy_database_of(project, bundle: str) -> str:
    """The database `invoke open` restored a bundle into (there must be exactly one)."""
    pattern = re.compile(rf"mole_open_bundle_{re.escape(bundle.replace('-', '_'))}_[0-9a-f]{{8}}")
    [name] = [row[0] for row in project.sql(COPY_DATABASES, "postgres") if pattern.fullmatch(row[0])]
    return name


class OpenedSession:
    """`invoke open ARGS --port P` running in its own process group, as from a terminal."""

    def __init__(self, project, *args: str, port: int | None = None, sigint_ignored: bool = False) -> None:
        """`sigint_ignored`: started as a shell without job control starts a background job."""
        self.port = port or free_port()
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.log = project.root / f"open-{self.port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [INVOKE, "open", *args, "--port", str(self.port)],
                cwd=project.root,
                env=project.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
                preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None,
            )
        self.reader = threading.Thread(target=self.read_output, daemon=True)
        self.reader.start()

    def read_output(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if READY_LINE in line:
                self.ready.set()
        self.ready.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines) + "\n" + self.log.read_text()

    def wait_until_serving(self) -> OpenedSession:
        self.ready.wait(START_TIMEOUT_SECONDS)
        found = next((LOGIN_LINE.search(line) for line in self.lines if LOGIN_LINE.search(line)), None)
        if not found or self.process.poll() is not None:
            self.stop()
            raise AssertionError(f"invoke open did not start serving:\n{self.output}")
        self.url, self.username, self.password = found["url"], found["username"], found["password"]
        return self

    def stop(self) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(120)
        self.reader.join(10)
        return code

    def __enter__(self) -> OpenedSession:
        return self.wait_until_serving()

    def __exit__(self, *exc) -> None:
        self.stop()


class WebClient:
    """A cookie-keeping HTTP client, enough to log into Django's admin like a browser does."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, str, str]:
        return self.request(path)

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Status, final URL (after redirects) and body."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base_url + path.lstrip("/"), data=data)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode()

    def log_in(self, username: str, password: str) -> bool:
        _, _, page = self.get("admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        _, final_url, _ = self.request(
            "admin/login/?next=/admin/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"},
        )
        return "/admin/login/" not in final_url
