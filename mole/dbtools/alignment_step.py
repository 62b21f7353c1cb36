"""One step of a custom legacy migration: plain data, written by the draft writer, run by the migration."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One reversible change; `review` says what a person must check first."""

    description: str
    forward: str
    reverse: str
    review: str = ""
