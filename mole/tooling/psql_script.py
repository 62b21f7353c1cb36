"""Cut a psql script (a plain pg_dump) into the pieces psql itself would see.

psql reads a script line by line and sends a statement when it meets a `;` outside
string literals, quoted identifiers, comments, dollar-quoted bodies, parentheses and
`BEGIN ATOMIC` bodies; a backslash outside those starts a meta-command that runs to
the end of the line; after a `COPY ... FROM STDIN` the following lines are data up
to a line `\\.`. This module follows the same rules (PostgreSQL docs: "Lexical
Structure" §4.1, and psql's "Meta-Commands" and "Advanced Features"), on bytes, so
that every byte of a kept piece reaches psql unchanged.

What a statement *is* is not decided here: `dump_policy` asks PostgreSQL's own
parser (pglast). That parser cannot stand in for this module: it sees one string of
SQL, knows neither psql's meta-commands nor COPY data, and always lexes as if
`standard_conforming_strings` were on.

The consumer steers the reader between pieces: it sets `standard_conforming_strings`
when a statement changes it, and calls `expect_copy_data()` after a COPY FROM STDIN.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable
from typing import Iterator

from .errors import NotADump
from .errors import UnsafeDump

STATEMENT = "statement"
META_COMMAND = "meta-command"
COPY_DATA = "copy data"
COPY_END = "copy end"
TAIL = "tail"

PG_DUMP_TRAILER = b"-- PostgreSQL database dump complete"

# One token in plain SQL, tried in this order at the current position (§4.1.1-4.1.5).
# Identifiers are taken whole, so a quote or `$` right after one is never a prefix.
TOKEN = re.compile(
    rb"""(?P<space>\s+)
    |(?P<line_comment>--[^\n]*)
    |(?P<block_comment>/\*)
    |(?P<escape_string>[eE]')
    |(?P<national_string>[nN]')
    |(?P<plain_string>(?:[uU]&|[bBxX])')
    |(?P<string>')
    |(?P<quoted_identifier>(?:[uU]&)?")
    |(?P<dollar_quote>\$(?:[A-Za-z_\x80-\xff][A-Za-z_0-9\x80-\xff]*)?\$)
    |(?P<parameter>\$[0-9]+)
    |(?P<identifier>[A-Za-z_\x80-\xff][A-Za-z_0-9$\x80-\xff]*)
    |(?P<number>[0-9][0-9A-Za-z_.]*)
    |(?P<cast>::)
    |(?P<variable>:(?:[A-Za-z_\x80-\xff'"]|\{\?))
    |(?P<backslash>\\)
    |(?P<semicolon>;)
    |(?P<open>\()
    |(?P<close>\))
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
# The rest of a literal, from inside it to its closing quote (a doubled quote is a quote).
STANDARD_STRING_END = re.compile(rb"(?:[^']|'')*'(?!')", re.DOTALL)
ESCAPE_STRING_END = re.compile(rb"(?:[^'\\]|\\.|'')*'(?!')", re.DOTALL)
IDENTIFIER_END = re.compile(rb'(?:[^"]|"")*"(?!")', re.DOTALL)
COMMENT_MARK = re.compile(rb"/\*|\*/")
META_NAME = re.compile(rb"\\([A-Za-z]+|[^A-Za-z\s]?)")
COPY_TERMINATOR = (b"\\.\n", b"\\.\r\n", b"\\.")

# psql's own heuristic for `BEGIN ATOMIC ... END` bodies: only inside a statement that
# starts CREATE [OR REPLACE] FUNCTION|PROCEDURE do BEGIN/CASE/END nest.
ROUTINE_STARTS = ((b"create", b"function"), (b"create", b"procedure"),
                  (b"create", b"or", b"replace", b"function"), (b"create", b"or", b"replace", b"procedure"))


@dataclass(frozen=True)
class Piece:
    """One piece of a script: a statement (with the comments before it), a meta-command
    line, one COPY data line, the end-of-data line, or what follows the last statement.

    `text` is the piece's bytes as in the file; `text[start:end]` its body: the statement
    from its first token to its `;`, or the meta-command (empty for other kinds);
    `line` the 1-based line where the body (or the piece) starts.
    """

    kind: str
    text: bytes
    line: int
    start: int = 0
    end: int = 0
    escaped_strings: tuple[int, ...] = ()  # offsets in `text` of `'...'` read with backslash escapes

    @property
    def body(self) -> bytes:
        return self.text[self.start:self.end]

    def body_for_parser(self) -> bytes:
        """The body with an `E` before each literal read with backslash escapes, so that a parser
        that always assumes standard_conforming_strings on reads the same strings."""
        if not self.escaped_strings:
            return self.body
        parts, last = [], self.start
        for offset in self.escaped_strings:
            parts += [self.text[last:offset], b"E"]
            last = offset
        parts.append(self.text[last:self.end])
        return b"".join(parts)

    @property
    def prefix(self) -> bytes:
        """The comments and blank lines before the body."""
        return self.text[: self.start]

    @property
    def suffix(self) -> bytes:
        """What follows the body on its last line (its line end)."""
        return self.text[self.end:]


class ScriptReader:
    """Iterate over the pieces of a script read from `lines` (bytes, each ending in `\\n`)."""

    def __init__(self, lines: Iterable[bytes], source: str = "the script") -> None:
        self.lines = lines
        self.source = source
        self.standard_conforming_strings = True
        self.saw_trailer = False
        self.line_number = 0
        self._copy_pending = False

    def expect_copy_data(self) -> None:
        """The statement just read was COPY ... FROM STDIN: data lines follow."""
        self._copy_pending = True

    def __iter__(self) -> Iterator[Piece]:
        text = bytearray()  # the piece so far
        body_start: int | None = None  # offset of the statement's first token in `text`
        body_line = 0
        state: tuple = ("normal",)
        paren_depth = begin_depth = 0
        words: list[bytes] = []  # the statement's first identifiers, lower-cased
        escaped: list[int] = []  # plain literals read under standard_conforming_strings off
        for line in self.lines:
            self.line_number += 1
            if self._copy_pending:
                if line in COPY_TERMINATOR:
                    self._copy_pending = False
                    yield Piece(COPY_END, line, self.line_number)
                else:
                    yield Piece(COPY_DATA, line, self.line_number)
                continue
            position = 0
            while position < len(line):
                kind = state[0]
                if kind == "string":
                    end = (ESCAPE_STRING_END if state[1] else STANDARD_STRING_END).match(line, position)
                    if end is None:
                        position = len(line)
                        continue
                    position, state = end.end(), ("normal",)
                    continue
                if kind == "identifier":
                    end = IDENTIFIER_END.match(line, position)
                    if end is None:
                        position = len(line)
                        continue
                    position, state = end.end(), ("normal",)
                    continue
                if kind == "dollar":
                    found = line.find(state[1], position)
                    if found < 0:
                        position = len(line)
                        continue
                    position, state = found + len(state[1]), ("normal",)
                    continue
                if kind == "comment":
                    depth = state[1]
                    mark = COMMENT_MARK.search(line, position)
                    if mark is None:
                        position = len(line)
                        continue
                    depth += 1 if mark.group() == b"/*" else -1
                    position = mark.end()
                    state = ("comment", depth) if depth else ("normal",)
                    continue
                token = TOKEN.match(line, position)
                name, value = token.lastgroup, token.group()
                if name not in ("space", "line_comment", "block_comment") and body_start is None:
                    body_start, body_line = len(text) + position, self.line_number
                if name == "line_comment":
                    if position == 0 and value.startswith(PG_DUMP_TRAILER):
                        self.saw_trailer = True
                elif name == "block_comment":
                    state = ("comment", 1)
                elif name == "escape_string":
                    state = ("string", True)
                elif name in ("string", "national_string"):
                    state = ("string", not self.standard_conforming_strings)
                    if name == "string" and not self.standard_conforming_strings:
                        escaped.append(len(text) + position)
                elif name == "plain_string":
                    state = ("string", False)
                elif name == "quoted_identifier":
                    state = ("identifier",)
                elif name == "dollar_quote":
                    state = ("dollar", value)
                elif name == "identifier":
                    begin_depth = self._track_atomic(value.lower(), words, paren_depth, begin_depth)
                elif name == "variable":
                    raise self._unsafe(
                        f"refers to a psql variable ({value.decode(errors='replace')}...), which psql "
                        "would replace with a value of its own"
                    )
                elif name == "backslash":
                    if body_start is not None and body_start < len(text) + position:
                        raise self._unsafe(
                            f"holds a psql meta-command inside a statement ({meta_name(line, position)})"
                        )
                    start = len(text) + position
                    text += line
                    yield Piece(META_COMMAND, bytes(text), self.line_number, start,
                                start + len(line[position:].rstrip(b"\r\n")))
                    text, body_start, words, escaped = bytearray(), None, [], []
                    line, position = b"", 0
                    continue
                elif name == "open":
                    paren_depth += 1
                elif name == "close":
                    paren_depth = max(paren_depth - 1, 0)
                elif name == "semicolon" and paren_depth == 0 and begin_depth == 0:
                    # A line's end after a statement belongs to it (COPY data starts on the next line).
                    end = len(text) + token.end()
                    cut = len(line) if not line[token.end():].strip() else token.end()
                    text += line[:cut]
                    line, position = line[cut:], 0
                    yield Piece(STATEMENT, bytes(text), body_line, body_start, end, tuple(escaped))
                    text, body_start, words, begin_depth, escaped = bytearray(), None, [], 0, []
                    if self._copy_pending and line:
                        raise self._unsafe("holds more after a COPY ... FROM STDIN statement, on the "
                                           "line where its data would start")
                    continue
                position = token.end()
            text += line
        if self._copy_pending:
            raise NotADump(f"{self.source} is truncated: it ends inside COPY data, before its `\\.` line")
        if body_start is not None:
            yield Piece(TAIL, bytes(text), body_line, body_start, len(text), tuple(escaped))
        elif text:
            yield Piece(TAIL, bytes(text), self.line_number)

    def _unsafe(self, what: str) -> UnsafeDump:
        return UnsafeDump(f"{self.source} line {self.line_number} {what}: a pg_dump file holds none",
                          line=self.line_number)

    @staticmethod
    def _track_atomic(word: bytes, words: list[bytes], paren_depth: int, begin_depth: int) -> int:
        if len(words) < 4:
            words.append(word)
        routine = any(tuple(words[: len(start)]) == start for start in ROUTINE_STARTS)
        if not routine or paren_depth:
            return begin_depth
        if word == b"begin":
            return begin_depth + 1
        if word == b"case" and begin_depth:
            return begin_depth + 1
        if word == b"end" and begin_depth:
            return begin_depth - 1
        return begin_depth


def meta_name(line: bytes, position: int) -> str:
    """`\\name` of the meta-command that starts at `position`."""
    match = META_NAME.match(line, position)
    return match.group().decode(errors="replace") if match else "\\"
