"""Which process made a temporary thing: host, process id and the process's start time.

A process id alone is reused by the system; with the process's start time it names
one process for good, so a later run can tell a temporary database, role, folder or
file of a run that is still working from one left by a run that was killed.
"""
from __future__ import annotations

import functools
import hashlib
import re
import socket
from dataclasses import dataclass
from enum import Enum

import psutil

MARKER_PREFIX = "mole-tooling temporary"
TOKEN_PATTERN = re.compile(r"(?P<pid>[0-9]{1,10})_(?P<started>[0-9]{1,16})_(?P<host>[0-9a-f]{6})")
MARKER_PATTERN = re.compile(
    rf"{MARKER_PREFIX} of host (?P<host>\S+) process (?P<pid>[0-9]{{1,10}}) "
    r"started (?P<started>[0-9]{1,16})"
)


class OwnerState(Enum):
    """Whose a temporary thing is: a run still working, a killed run's, or another host's."""

    ALIVE = "its run is still working"
    GONE = "left by a run that was killed"
    ELSEWHERE = "made on another host: left alone"


@dataclass(frozen=True)
class Owner:
    """`started` is the process's start time in hundredths of a second since the epoch
    (psutil's `create_time`, which Linux derives from /proc/<pid>/stat in clock ticks)."""

    host: str
    pid: int
    started: int

    @property
    def token(self) -> str:
        """`<pid>_<started>_<host tag>`: fits in a database, role or file name (names are short,
        so the host is a tag: a folder shared by two machines tells their runs apart)."""
        return f"{self.pid}_{self.started}_{host_tag(self.host)}"

    @property
    def marker(self) -> str:
        """A COMMENT for what cannot carry the token in its name."""
        return f"{MARKER_PREFIX} of host {self.host} process {self.pid} started {self.started}"

    def state(self) -> OwnerState:
        """Whether the owning process still runs (same pid and start time) on this host."""
        if self.host != this_host():
            return OwnerState.ELSEWHERE
        try:
            started = start_time_of(self.pid)
        except psutil.AccessDenied:
            # Another user's process whose start the system hides: it may be the owner, so keep.
            return OwnerState.ALIVE
        return OwnerState.ALIVE if started == self.started else OwnerState.GONE


def this_host() -> str:
    """This machine's host name."""
    return socket.gethostname() or "localhost"


def host_tag(host: str) -> str:
    """6 hex digits naming a host in temporary names (its name's sha256)."""
    return hashlib.sha256(host.encode()).hexdigest()[:6]


def start_time_of(pid: int) -> int | None:
    """The start time of process `pid` in hundredths of a second, or None if there is none.

    Raises psutil.AccessDenied where the system hides it (another user's process on macOS)."""
    try:
        return round(psutil.Process(pid).create_time() * 100)
    except (psutil.NoSuchProcess, ValueError):
        return None


@functools.cache
def this_process() -> Owner:
    """The owner of what this run makes."""
    process = psutil.Process()
    return Owner(this_host(), process.pid, round(process.create_time() * 100))


def owner_of_token(token: str) -> Owner | None:
    """The owner a `<pid>_<started>_<host tag>` token names, or None; a host other than this
    one is known by its tag only."""
    found = TOKEN_PATTERN.fullmatch(token)
    if found is None:
        return None
    host = this_host() if found["host"] == host_tag(this_host()) else f"host-{found['host']}"
    return Owner(host, int(found["pid"]), int(found["started"]))


def owner_in_marker(text: str) -> Owner | None:
    """The owner a COMMENT made by `Owner.marker` names, or None for any other text."""
    found = MARKER_PATTERN.search(text or "")
    if found is None:
        return None
    return Owner(found["host"], int(found["pid"]), int(found["started"]))
