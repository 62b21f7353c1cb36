"""What `run_legacy` reports as it goes: typed events, for the task to put into words.

The engine never prints (Django's migration executor reports through `progress_callback` the same
way); a caller passes a `Report` and chooses what to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from typing import Union

from tooling.compliance.lineage import LineageMatch


@dataclass(frozen=True)
class DumpLoaded:
    """The dump `source` (of `kind`, e.g. "plain SQL") is in scratch database `database`."""

    source: str
    kind: str
    database: str


@dataclass(frozen=True)
class LineageFound:
    """Where the dump's schema sits in Mole's history."""

    lineage: LineageMatch


@dataclass(frozen=True)
class DriftConverted:
    """What an older Django made differently was converted (`lines`, one per step); `lineage` is
    where the schema is now (exactly a point, or only the divergence left)."""

    lines: tuple[str, ...]
    lineage: LineageMatch


@dataclass(frozen=True)
class MigratingFrom:
    """An old Mole: migrations up to `start` are recorded as applied, the rest run."""

    start: str


@dataclass(frozen=True)
class ApplyingCustom:
    """The custom migration `label` aligns the schema to the point `point`; every later migration
    runs after it."""

    label: str
    point: str


@dataclass(frozen=True)
class HistoryRewritten:
    """The dump's `django_migrations` named migrations our history does not have at its point
    (renamed, or recorded beyond its schema); `summary` says what was removed and recorded."""

    summary: str


@dataclass(frozen=True)
class HistoryMissing:
    """The dump had no `django_migrations`: `recorded` are the other apps' heads (`app.name`)
    recorded as applied because the dump has their tables."""

    recorded: tuple[str, ...]


@dataclass(frozen=True)
class Verified:
    """Every check passed; `allowed_losses` is how many losses --allow-data-loss let go."""

    allowed_losses: int


LegacyEvent = Union[
    DumpLoaded, LineageFound, DriftConverted, MigratingFrom, ApplyingCustom, HistoryRewritten,
    HistoryMissing, Verified,
]
Report = Callable[[LegacyEvent], None]


def ignore(event: LegacyEvent) -> None:
    """The default `Report`: show nothing."""
