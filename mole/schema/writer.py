"""Render planned operations as a custom migration's source (Django keeps its writer apart from
its autodetector the same way). The format is `custom_migration`'s."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone
from typing import Iterable

from .custom_migration import FINGERPRINT_NAME
from .custom_migration import POINT_NAME
from .custom_migration import REVIEWED_NAME
from .custom_migration import RUNS_BEFORE_NAME
from .custom_migration import STEPS_NAME
from .custom_migration import Step
from .operations import Operation


def steps_of(operations: list[Operation]) -> list[Step]:
    """Each operation as a Step: its SQL forward, its reverse's SQL back, its review note."""
    return [Step(op.description, op.sql(), op.reverse().sql(), op.review) for op in operations]


def render_migration(
    *, fingerprint: str, parent: str, steps: list[Step], source: str, lineage: str,
    point: str | None = None, runs_before: str | None = None,
) -> str:
    """The draft's Python source (`parent` is `app.migration`, the end of the history): an
    alignment whose steps lead to the point label `point`, or a data fix that runs right before
    the migration `runs_before` (`app.name`). Readable, with `# REVIEW:` notes where a person must
    decide, and `REVIEWED = False`."""
    app, parent_name = parent.split(".", 1)
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    reviews = [step for step in steps if step.review]
    if point is not None:
        purpose = f"Align one legacy schema (fingerprint {fingerprint}) to Mole at {point}."
        where, place_name, place_argument, place = "at that point", POINT_NAME, "point", point
    else:
        purpose = f"Fix the data of one legacy schema (fingerprint {fingerprint}) right before {runs_before}."
        where, place_name, place_argument = f"right before {runs_before}", RUNS_BEFORE_NAME, "runs_before"
        place = runs_before
    lines = [
        f'"""{purpose}',
        "",
        f"Drafted by Mole's legacy tooling on {today} from {plain_text(source, docstring=True)}",
        f"(lineage: {plain_text(lineage, docstring=True)}).",
        f"{len(steps)} steps, {len(reviews)} marked REVIEW. Read every step, change what a REVIEW",
        "note asks, then set REVIEWED = True. Until then this migration refuses to run on the",
        "legacy database; on every other database it does nothing. `invoke legacy` runs the steps",
        f"{where}, then every later migration.",
        '"""',
        "from django.db import migrations",
        "",
        "from dbtools.legacy_alignment import AlignLegacySchema",
        "from dbtools.legacy_alignment import Step",
        "",
        f'{FINGERPRINT_NAME} = "{fingerprint}"',
        f"{REVIEWED_NAME} = False",
        f"{place_name} = {place!r}",
        "",
        f"{STEPS_NAME} = [",
    ]
    for step in steps:
        if step.review:
            lines.append(f"    # REVIEW: {plain_text(step.review)}")
        lines += [
            "    Step(",
            f"        {step.description!r},",
            f"        forward={python_string(step.forward)},",
            f"        reverse={python_string(step.reverse)},",
        ]
        if step.review:
            lines.append(f"        review={step.review!r},")
        lines.append("    ),")
    lines += [
        "]",
        "",
        "",
        "class Migration(migrations.Migration):",
        f'    dependencies = [("{app}", "{parent_name}")]',
        "",
        "    operations = [",
        "        AlignLegacySchema(",
        f"            fingerprint={FINGERPRINT_NAME},",
        f"            steps={STEPS_NAME},",
        f"            reviewed={REVIEWED_NAME},",
        f"            {place_argument}={place_name},",
        '            name=__name__.rsplit(".", 1)[-1],',
        "        ),",
        "    ]",
        "",
    ]
    return "\n".join(lines)


def plain_text(text: str, *, docstring: bool = False) -> str:
    """Names from the dump on one line (a newline would end a comment and start code);
    in a docstring, without quotes or backslashes either."""
    unsafe = '"\\' if docstring else ""
    return "".join(ch if ch.isprintable() and ch not in unsafe else "?" for ch in text)


def python_string(sql: str) -> str:
    """SQL as a Python literal a person can edit: quotes of both kinds stay as they are."""
    if "'''" in sql or "\\" in sql or sql.endswith("'"):
        return repr(sql)
    return f"'''{sql}'''"


def next_migration_name(existing: Iterable[str], name: str) -> str:
    """`<n+1>_<name>`, n the highest number among the `existing` migration names (4 digits, as
    Django numbers them)."""
    numbers = [int(migration[:4]) for migration in existing if migration[:4].isdigit()]
    return f"{max(numbers, default=0) + 1:04d}_{name}"
