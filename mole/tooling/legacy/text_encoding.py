"""Text a UTF-8 database cannot store, found while the dump streams past.

With `SET client_encoding = 'SQL_ASCII'` the server stores bytes unchecked, so a dump
from a SQL_ASCII server can carry bytes that are not UTF-8: they load, and every later
pg_dump/pg_restore of the database fails. Such text is refused here, naming the
table, the column and the row's first value (its key in every Mole table); the user
who knows the real encoding passes it as `--source-encoding` and the server converts.
"""
from __future__ import annotations

import re

from pglast import ast

from tooling.errors import ToolingError
from tooling.errors import UnstorableText
from tooling.legacy.dump_policy import parsed
from tooling.legacy.psql_script import Piece

# PostgreSQL's character sets (docs, "Character Set Support", table "PostgreSQL Character
# Sets"), by their names with punctuation removed, as the server compares them.
SERVER_SAFE = frozenset({
    "EUCCN", "EUCJP", "EUCJIS2004", "EUCKR", "EUCTW", "ISO88595", "ISO88596", "ISO88597", "ISO88598",
    "KOI8R", "KOI8U", "LATIN1", "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6", "LATIN7", "LATIN8",
    "LATIN9", "LATIN10", "MULEINTERNAL", "SQLASCII", "UTF8", "WIN866", "WIN874", "WIN1250", "WIN1251",
    "WIN1252", "WIN1253", "WIN1254", "WIN1255", "WIN1256", "WIN1257", "WIN1258",
})
ALIASES = {"UNICODE": "UTF8", "ISO88591": "LATIN1", "ISO88592": "LATIN2", "ISO88593": "LATIN3",
           "ISO88594": "LATIN4", "ISO88599": "LATIN5", "ISO885910": "LATIN6", "ISO885913": "LATIN7",
           "ISO885914": "LATIN8", "ISO885915": "LATIN9", "ISO885916": "LATIN10", "KOI8": "KOI8R"}
# Client-only sets whose second bytes may be `'`, `\` or `;`: no lexer can read them unaided.
CLIENT_ONLY = frozenset({"BIG5", "GB18030", "GBK", "JOHAB", "SJIS", "SHIFTJIS2004", "UHC"})
# Client encodings under which the server takes the bytes as UTF-8 or does not look at them.
UNCHECKED = frozenset({"UTF8", "SQLASCII"})
PUNCTUATION = re.compile(r"[^A-Za-z0-9]")


def canonical_encoding(name: str) -> str:
    """The server's name for an encoding given as `latin-1`, `LATIN1`, `utf8`, ...

    Raises ToolingError for a name PostgreSQL does not know, or a client-only encoding.
    """
    cleaned = PUNCTUATION.sub("", name).upper()
    cleaned = ALIASES.get(cleaned, cleaned)
    if cleaned in CLIENT_ONLY:
        raise ToolingError(f"encoding {name!r} cannot be read safely (its second bytes may look like "
                           "quotes or backslashes): convert the dump to UTF-8 with iconv first")
    if cleaned not in SERVER_SAFE:
        raise ToolingError(f"{name!r} is not an encoding PostgreSQL knows (e.g. LATIN1, WIN1252, UTF8)")
    return cleaned


def checked(client_encoding: str | None) -> bool:
    """True when the bytes must be valid UTF-8 already (no client_encoding set means UTF8)."""
    return client_encoding is None or canonical_encoding(client_encoding) in UNCHECKED


def check_copy_data(block: bytes, copy: ast.CopyStmt, first_line: int, source: str) -> None:
    """Raise UnstorableText when a block of COPY data lines (text format) is not UTF-8, naming the
    first line that is not."""
    if block.isascii():
        return
    try:
        block.decode("utf-8")
        return
    except UnicodeDecodeError:
        pass
    for number, line in enumerate(block.split(b"\n"), start=first_line):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            fields = line.rstrip(b"\r").split(b"\t")
            columns = [name.sval for name in copy.attlist or ()]
            position = next(index for index, value in enumerate(fields) if not valid_utf8(value))
            column = columns[position] if position < len(columns) else f"column {position + 1}"
            raise_unstorable(source, number, table_name(copy.relation), column, fields[0])


def check_statement(piece: Piece, source: str) -> None:
    """Raise UnstorableText when a statement's text is not UTF-8 (INSERTs name their column)."""
    body = piece.body
    if body.isascii() or valid_utf8(body):
        return
    node, line_number = parsed(piece.body_for_parser()), piece.line
    table, column, key = "?", "?", b"?"
    if isinstance(node, ast.InsertStmt) and node.selectStmt is not None and node.selectStmt.valuesLists:
        table = table_name(node.relation)
        columns = [target.name for target in node.cols or ()]
        for row in node.selectStmt.valuesLists:
            values = [constant_bytes(value) for value in row]
            for position, value in enumerate(values):
                if value is not None and not valid_utf8(value):
                    column = columns[position] if position < len(columns) else f"column {position + 1}"
                    key = values[0] if values and values[0] is not None else b"?"
                    raise_unstorable(source, line_number, table, column, key)
    raise_unstorable(source, line_number, table, column, key)


def raise_unstorable(source: str, line_number: int, table: str, column: str, key: bytes) -> None:
    """Raises UnstorableText naming the source line, table, column and row key."""
    shown_key = key.decode("latin-1")[:40]
    raise UnstorableText(
        f"{source} line {line_number}: table {table}, column {column}, row {shown_key}: text that is not "
        "UTF-8 (the dump says SQL_ASCII or UTF8); name its real encoding with --source-encoding, e.g. LATIN1",
        table=table, column=column, key=shown_key,
    )


def valid_utf8(value: bytes) -> bool:
    """True when `value` decodes as UTF-8."""
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def constant_bytes(node: ast.Node) -> bytes | None:
    """The bytes of a literal as the parser read them (the statement was decoded as Latin-1)."""
    value = getattr(node, "val", None)
    if isinstance(node, ast.TypeCast):
        return constant_bytes(node.arg)
    text = getattr(value, "sval", None)
    return text.encode("latin-1") if text is not None else str(getattr(value, "ival", "")).encode()


def table_name(relation: ast.RangeVar) -> str:
    """`schema.table` (or `table`) of a COPY target, as text."""
    name = relation.relname.encode("latin-1").decode("utf-8", errors="replace")
    return f"{relation.schemaname}.{name}" if relation.schemaname else name
