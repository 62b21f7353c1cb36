"""Every schema difference of a legacy dump, with likely renames and its lineage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schema.compare import compare
from schema.compare import compare_names
from schema.differences import Difference
from schema.django_drift import drift_kind
from schema.django_drift import drift_summary
from schema.django_drift import plural_of
from schema.model import Schema
from schema.renames import RenameCandidate
from schema.renames import find_renames
from tooling.compliance.lineage import LineageMatch


@dataclass(frozen=True)
class SchemaDiff:
    """A dump's schema against today's (or another dump's): differences, names, renames, lineage."""

    against: str  # what the dump was compared with
    differences: list[Difference]
    name_differences: list[Difference]
    renames: list[RenameCandidate]
    lineage: LineageMatch

    @property
    def identical(self) -> bool:
        """True when nothing differs, not even a name."""
        return not self.differences and not self.name_differences

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (`invoke diff --json`)."""
        return {
            "against": self.against,
            "identical": self.identical,
            "lineage": self.lineage.as_dict(),
            "differences": [d.as_dict() for d in self.differences],
            "name_differences": [d.as_dict() for d in self.name_differences],
            "rename_candidates": [r.as_dict() for r in self.renames],
        }

    def write_json(self, path: Path) -> None:
        """Write `as_dict` to `path`, indented."""
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def lines(self) -> list[str]:
        """The report, one line per fact."""
        text = [f"Lineage: {self.lineage.describe()}."]
        if self.lineage.nearest_differences and not self.against.endswith(f"({self.lineage.nearest})"):
            text.append(f"Its Mole tables differ from {self.lineage.nearest} (the nearest) in:")
            text += [f"  {line}" for line in self.lineage.nearest_differences]
        if self.identical:
            return text + [f"No differences from {self.against}."]
        differences = [d for d in self.differences if drift_kind(d) is None]
        names = [d for d in self.name_differences if drift_kind(d) is None]
        drift = drift_summary(self.differences + self.name_differences)
        if drift:
            text.append("Django-version drift (what Django 3.2 and 5.2 make differently; each in --json):")
            text += [f"  {line}" for line in drift]
        counted = f"{len(differences)} other {plural_of(len(differences), 'difference')}"
        text.append(f"{counted} from {self.against}" + (":" if differences else "."))
        text += [f"  {d.describe()}" for d in differences]
        if names:
            verb = "differs" if len(names) == 1 else "differ"
            text.append(f"{len(names)} other {plural_of(len(names), 'name')} {verb} (same structure):")
            text += [f"  {d.describe()}" for d in names]
        if self.renames:
            text.append("Likely renames:")
            text += [f"  {r.describe()}" for r in self.renames]
        return text


def diff_schemas(
    expected: Schema, actual: Schema, against: str, lineage: LineageMatch
) -> SchemaDiff:
    """Every difference of `actual` from `expected` (named `against` in reports), its name
    differences and likely renames."""
    differences = compare(expected, actual)
    return SchemaDiff(
        against,
        differences,
        compare_names(expected, actual),
        find_renames(expected, actual, differences),
        lineage,
    )
