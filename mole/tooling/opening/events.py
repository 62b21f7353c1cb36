"""What `run_open` reports: typed events, for the task to put into words."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Callable
from typing import Union


@dataclass(frozen=True)
class CopyReady:
    """The copy `database` of `kind` `name` is ready: `restored` from its dump, or reused as it was."""

    kind: str
    name: str
    database: str
    restored: bool


@dataclass(frozen=True)
class Serving:
    """Mole answers at `url`; the session's admin login is `username` and `password`."""

    kind: str
    name: str
    url: str
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Stopped:
    """The session ended; its login is removed and the copy `database` kept for the next open."""

    database: str


OpenEvent = Union[CopyReady, Serving, Stopped]
Report = Callable[[OpenEvent], None]
