"""SQL identifiers and literals for the SQL the tooling writes, quoted in this one place.

Rules from PostgreSQL's documentation, "Lexical Structure" (4.1.1 Identifiers and Key Words, 4.1.2.1
String Constants): a quoted identifier doubles its `"`, a string constant doubles its `'`; with
`standard_conforming_strings` on (the default since PostgreSQL 9.1, and what every session of ours
uses) a backslash is an ordinary character. Where a connection exists, prefer parameters
(`%s`) or psycopg2's `sql.Identifier`; these functions are for SQL written into files and scripts.
"""

from __future__ import annotations

import re

from pglast.keywords import COL_NAME_KEYWORDS
from pglast.keywords import RESERVED_KEYWORDS
from pglast.keywords import TYPE_FUNC_NAME_KEYWORDS

SIMPLE_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*")


class UnquotableText(ValueError):
    """Text holding a NUL byte: PostgreSQL accepts it in no identifier and no string constant."""


def _refuse_nul(text: str) -> str:
    if "\x00" in text:
        raise UnquotableText(f"{text!r} holds a NUL byte")
    return text


def identifier(name: str) -> str:
    """`name` as a quoted identifier: `a"b` -> `"a""b"`. Raises UnquotableText for a NUL byte."""
    return '"' + _refuse_nul(name).replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """`schema.name`, both parts quoted: `"public"."data_collection_pose"`."""
    return f"{identifier(schema)}.{identifier(name)}"


def literal(text: str) -> str:
    """`text` as a string constant: `it's` -> `'it''s'`. Raises UnquotableText for a NUL byte."""
    return "'" + _refuse_nul(text).replace("'", "''") + "'"


def column_list(names: tuple[str, ...] | list[str]) -> str:
    """`("a", "b")` -> `"a", "b"`."""
    return ", ".join(identifier(name) for name in names)


def as_rendered(name: str) -> str:
    """`name` as PostgreSQL's catalog functions render it (`quote_identifier` in ruleutils.c):
    bare when it is lowercase letters, digits, `_` and `$`, starts with a letter or `_`, and is
    no keyword other than an unreserved one; quoted otherwise (`timestamp` -> `"timestamp"`)."""
    keyword = name in RESERVED_KEYWORDS or name in COL_NAME_KEYWORDS or name in TYPE_FUNC_NAME_KEYWORDS
    if SIMPLE_IDENTIFIER.fullmatch(name) and not keyword:
        return name
    return identifier(name)
