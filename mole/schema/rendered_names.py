"""Names as PostgreSQL's catalog functions render them (`pg_get_constraintdef`, `pg_get_indexdef`):
what the planner must find inside a definition when it renames a table or a column.

Apart from `quoting` because it needs pglast's keyword lists, which every task that only quotes
should not load.
"""

from __future__ import annotations

import re

from pglast.keywords import COL_NAME_KEYWORDS
from pglast.keywords import RESERVED_KEYWORDS
from pglast.keywords import TYPE_FUNC_NAME_KEYWORDS

from .quoting import identifier

SIMPLE_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*")


def as_rendered(name: str) -> str:
    """`name` as PostgreSQL's catalog functions render it (`quote_identifier` in ruleutils.c):
    bare when it is lowercase letters, digits, `_` and `$`, starts with a letter or `_`, and is
    no keyword other than an unreserved one; quoted otherwise (`timestamp` -> `"timestamp"`)."""
    keyword = name in RESERVED_KEYWORDS or name in COL_NAME_KEYWORDS or name in TYPE_FUNC_NAME_KEYWORDS
    if SIMPLE_IDENTIFIER.fullmatch(name) and not keyword:
        return name
    return identifier(name)
