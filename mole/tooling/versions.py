"""PostgreSQL version strings as pg_dump and the server write them, reduced to a major release.

Forms seen: `18.6`, `15.20`, `11.22 (Debian 11.22-1.pgdg120+1)`, `9.6.24`, `19beta1`,
`19rc1`, `19devel`. Since PostgreSQL 10 the major release is the first number; before,
the first two (PostgreSQL docs, "Versioning Policy").
"""
from __future__ import annotations

import re

LEADING_NUMBERS = re.compile(r"\s*(\d+)(?:\.(\d+))?")


def major_release(version: str) -> tuple[int, ...]:
    """`(18,)` for "18.6" or "18beta1", `(9, 6)` for "9.6.24"; ValueError when no number leads."""
    match = LEADING_NUMBERS.match(version)
    if match is None:
        raise ValueError(f"not a PostgreSQL version: {version!r}")
    first = int(match.group(1))
    if first >= 10:
        return (first,)
    return (first, int(match.group(2) or 0))

