"""SQL identifiers and literals for the SQL the tooling writes, quoted in this one place.

Rules from PostgreSQL's documentation, "Lexical Structure" (4.1.1 Identifiers and Key Words, 4.1.2.1
String Constants): a quoted identifier doubles its `"`, a string constant doubles its `'`; with
`standard_conforming_strings` on (the default since PostgreSQL 9.1, and what every session of ours
uses) a backslash is an ordinary character. Where a connection exists, prefer parameters
(`%s`) or psycopg2's `sql.Identifier`; these functions are for SQL written into files and scripts.
"""

from __future__ import annotations


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

