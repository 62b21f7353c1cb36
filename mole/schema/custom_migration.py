"""The format of a custom (legacy) migration, defined once for its writer and its readers.

A custom migration is a module in `data_collection/migrations/` holding:
- `LEGACY_FINGERPRINT`: the fingerprint (see `fingerprint`) of the one legacy schema it aligns;
- `REVIEWED`: False in a draft, until a person has read every REVIEW note;
- `ALIGNS_TO`: the point of Mole's history whose schema the steps lead to
  (`data_collection.0005_x`, or `data_collection.0009_x + automation.0002_y`); the tooling runs
  the steps there, so that every later migration, data migrations included, still runs. A
  migration without it aligns to its parent's point;
- or, for a data fix, `RUNS_BEFORE`: the migration (`app.name`) whose rules old rows break; the
  tooling runs the steps right before it (they change data only, keeping the originals in the
  `legacy` schema);
- `STEPS`: a list of `Step`s, each one reversible SQL change;
- a `Migration` whose one operation is `dbtools.legacy_alignment.AlignLegacySchema` built from them.
What a migration moves aside instead of dropping goes into the `legacy` schema, and each applied
alignment is recorded in `legacy.alignments`.
"""

from __future__ import annotations

from dataclasses import dataclass

LEGACY_SCHEMA = "legacy"
RECORD_TABLE = f"{LEGACY_SCHEMA}.alignments"
FINGERPRINT_NAME = "LEGACY_FINGERPRINT"
REVIEWED_NAME = "REVIEWED"
POINT_NAME = "ALIGNS_TO"
RUNS_BEFORE_NAME = "RUNS_BEFORE"
STEPS_NAME = "STEPS"
NAME_PREFIX = "legacy_"


@dataclass(frozen=True)
class Step:
    """One reversible change: SQL `forward` and `reverse`; `review` says what a person must check."""

    description: str
    forward: str
    reverse: str
    review: str = ""


def point_migrations(point: str) -> dict[str, str]:
    """`data_collection.0009_x + automation.0002_y` -> {"data_collection": "0009_x", "automation":
    "0002_y"}: each app's migration at a point label (the form of `ALIGNS_TO`)."""
    return dict(part.strip().split(".", 1) for part in point.split("+"))

