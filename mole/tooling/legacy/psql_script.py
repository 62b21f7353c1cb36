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

from tooling.errors import NotADump
from tooling.errors import UnsafeDump

STATEMENT = "statement"
META_COMMAND = "meta-command"
COPY_DATA = "copy data"
COPY_END = "copy end"
TAIL = "tail"

PG_DUMP_TRAILER = b"-- PostgreSQL database dump complete"

# Outside literals and comments only these bytes can change what psql does; the scan jumps
# from one to the next (§4.1). In a routine's statement identifiers count too (BEGIN ATOMIC).
SPECIAL = re.compile(rb"""[-/'"$\\;():]""")
SPECIAL_OR_WORD = re.compile(rb"""[-/'"$\\;():]|[A-Za-z_\x80-\xff][A-Za-z_0-9$\x80-\xff]*""")
IDENTIFIER_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$") | frozenset(
    range(0x80, 0x100))
DOLLAR_TAG = re.compile(rb"\$(?:[A-Za-z_\x80-\xff][A-Za-z_0-9\x80-\xff]*)?\$")
VARIABLE = re.compile(rb""":(?:[A-Za-z_\x80-\xff'"]|\{\?)""")
SPACE = re.compile(rb"\s*")
# psql's own heuristic for `BEGIN ATOMIC ... END` bodies: only in a statement that starts
# CREATE [OR REPLACE] FUNCTION|PROCEDURE do BEGIN, CASE and END nest (outside parentheses).
ROUTINE_START = re.compile(rb"(?i)create\s+(?:or\s+replace\s+)?(?:function|procedure)\b")
# The rest of a literal, from inside it to its closing quote (a doubled quote is a quote).
STANDARD_STRING_END = re.compile(rb"(?:[^']|'')*'(?!')", re.DOTALL)
ESCAPE_STRING_END = re.compile(rb"(?:[^'\\]|\\.|'')*'(?!')", re.DOTALL)
IDENTIFIER_END = re.compile(rb'(?:[^"]|"")*"(?!")', re.DOTALL)
COMMENT_MARK = re.compile(rb"/\*|\*/")
META_NAME = re.compile(rb"\\([A-Za-z]+|[^A-Za-z\s]?)")
COPY_TERMINATOR = (b"\\.\n", b"\\.\r\n", b"\\.")
# COPY data is passed on in blocks of whole lines about this large: a piece per line would cost
# the loader more than psql spends on the line.
COPY_BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class Piece:
    """One piece of a script: a statement (with the comments before it), a meta-command
    line, a block of whole COPY data lines, the end-of-data line, or what follows the last
    statement.

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
        """The piece's statement or meta-command, without what surrounds it."""
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
        self._start_piece()
        self._state: tuple = ("normal",)
        lines = iter(self.lines)
        for line in lines:
            self.line_number += 1
            if b"\x00" in line:
                raise self._unsafe("holds a NUL byte, which psql would cut the line at")
            yield from self._read_line(line)
            if self._copy_pending:
                yield from self._copy_data(lines)
        if self._copy_pending:
            raise NotADump(f"{self.source} is truncated: it ends inside COPY data, before its `\\.` line")
        if self._body_start is not None:
            yield self._piece(TAIL, len(self._text))
        elif self._text:
            yield Piece(TAIL, bytes(self._text), self.line_number)

    def _copy_data(self, lines: Iterator[bytes]) -> Iterator[Piece]:
        """The data lines after a COPY FROM STDIN, in blocks, then its end-of-data line (none when
        the script ends first: the caller finds it still pending)."""
        block: list[bytes] = []
        size = 0
        for line in lines:
            if line in COPY_TERMINATOR:
                yield from self._copy_block(block)
                self.line_number += 1
                self._copy_pending = False
                yield Piece(COPY_END, line, self.line_number)
                return
            block.append(line)
            size += len(line)
            if size >= COPY_BLOCK_BYTES:
                yield from self._copy_block(block)
                block, size = [], 0
        yield from self._copy_block(block)

    def _copy_block(self, block: list[bytes]) -> Iterator[Piece]:
        if not block:
            return
        text = b"".join(block)
        first = self.line_number + 1
        self.line_number += len(block)
        if b"\x00" in text:
            self.line_number = first + next(index for index, line in enumerate(block) if b"\x00" in line)
            raise self._unsafe("holds a NUL byte in COPY data, which no text column can store")
        yield Piece(COPY_DATA, text, first)

    def _start_piece(self) -> None:
        self._text = bytearray()  # the piece so far, without the line being read
        self._body_start: int | None = None  # offset of the statement's first token in the piece
        self._body_line = 0
        self._paren_depth = 0
        self._begin_depth = 0
        self._routine = False  # CREATE [OR REPLACE] FUNCTION|PROCEDURE: BEGIN ATOMIC may follow
        self._escaped: list[int] = []  # offsets of plain literals read with backslash escapes

    def _piece(self, kind: str, end: int) -> Piece:
        return Piece(kind, bytes(self._text), self._body_line, self._body_start, end, tuple(self._escaped))

    def _read_line(self, line: bytes) -> Iterator[Piece]:
        position = 0
        while position < len(line):
            if self._state[0] != "normal":
                position = self._inside(line, position)
                continue
            if self._body_start is None:
                position = SPACE.match(line, position).end()
                if position == len(line):
                    break
                if not line.startswith((b"--", b"/*"), position):
                    self._body_start, self._body_line = len(self._text) + position, self.line_number
                    self._routine = bool(ROUTINE_START.match(line, position))
            found = (SPECIAL_OR_WORD if self._routine else SPECIAL).search(line, position)
            if found is None:
                break
            position = found.start()
            byte = line[position]
            if byte == ord(";") and self._paren_depth == 0 and self._begin_depth == 0:
                line = yield from self._end_statement(line, position)
                position = 0
            elif byte == ord("\\"):
                yield self._meta_command(line, position)
                return
            else:
                position = self._special(line, position, found.group())
        self._text += line

    def _special(self, line: bytes, position: int, token: bytes) -> int:
        """Act on the special byte (or, in a routine, the word) at `position`; return where to go on."""
        byte = line[position]
        after = position + len(token)
        if byte == ord("'"):
            # Each quote starts a literal of its own prefix's kind, even one that the server would
            # read as the continuation of the literal before (`E'a'` NEWLINE `'b\'`): psql does.
            escapes = self._backslash_escapes(line, position)
            self._state = ("string", escapes)
            if escapes and not self._prefixed(line, position):
                self._escaped.append(len(self._text) + position)
        elif byte == ord('"'):
            self._state = ("identifier",)
        elif byte == ord("$"):
            tag = DOLLAR_TAG.match(line, position)
            if tag and not (position and line[position - 1] in IDENTIFIER_BYTES):
                self._state, after = ("dollar", tag.group()), tag.end()
        elif byte == ord("-") and line.startswith(b"--", position):
            if position == 0 and line.startswith(PG_DUMP_TRAILER):
                self.saw_trailer = True
            after = len(line)
        elif byte == ord("/") and line.startswith(b"/*", position):
            self._state, after = ("comment", 1), position + 2
        elif byte == ord(":"):
            after = self._colon(line, position)
        elif byte == ord("("):
            self._paren_depth += 1
        elif byte == ord(")"):
            self._paren_depth = max(self._paren_depth - 1, 0)
        elif token[:1].isalpha() or byte == ord("_") or byte >= 0x80:
            self._track_atomic(token.lower())
        return after

    def _colon(self, line: bytes, position: int) -> int:
        if line.startswith(b"::", position):
            return position + 2
        if VARIABLE.match(line, position):
            raise self._unsafe(
                f"refers to a psql variable ({line[position:position + 2].decode(errors='replace')}...), "
                "which psql would replace with a value of its own"
            )
        return position + 1

    def _backslash_escapes(self, line: bytes, quote: int) -> bool:
        """Whether the literal opening at `quote` reads backslashes as escapes: E'' always,
        U&'', B'' and X'' never, '' and N'' when standard_conforming_strings is off."""
        prefix = self._prefix_letter(line, quote)
        if prefix in b"eE" and prefix:
            return True
        if prefix and prefix in b"bBxX&":
            return False
        return not self.standard_conforming_strings

    def _prefixed(self, line: bytes, quote: int) -> bool:
        return bool(self._prefix_letter(line, quote))

    @staticmethod
    def _prefix_letter(line: bytes, quote: int) -> bytes:
        """`E`, `N`, `B`, `X` or `&` (of U&) right before a quote when it starts the token, else b""."""
        if quote == 0:
            return b""
        letter = line[quote - 1:quote]
        start = quote - 2 if letter == b"&" else quote - 1
        if letter == b"&" and (start < 0 or line[start:start + 1] not in (b"u", b"U")):
            return b""
        if letter not in (b"e", b"E", b"n", b"N", b"b", b"B", b"x", b"X", b"&"):
            return b""
        if start > 0 and line[start - 1] in IDENTIFIER_BYTES:
            return b""
        return letter

    def _inside(self, line: bytes, position: int) -> int:
        """Move through a literal, quoted identifier, dollar body or comment; return where it ends."""
        kind = self._state[0]
        if kind == "dollar":
            found = line.find(self._state[1], position)
            end = None if found < 0 else found + len(self._state[1])
        elif kind == "comment":
            mark = COMMENT_MARK.search(line, position)
            if mark is None:
                return len(line)
            depth = self._state[1] + (1 if mark.group() == b"/*" else -1)
            self._state = ("comment", depth) if depth else ("normal",)
            return mark.end()
        else:
            pattern = IDENTIFIER_END if kind == "identifier" else (
                ESCAPE_STRING_END if self._state[1] else STANDARD_STRING_END)
            found = pattern.match(line, position)
            end = found.end() if found else None
        if end is None:
            return len(line)
        self._state = ("normal",)
        return end

    def _end_statement(self, line: bytes, semicolon: int) -> Iterator[Piece]:
        """Yield the statement ending at `semicolon`; return the rest of the line."""
        end = len(self._text) + semicolon + 1
        # A line's end after a statement belongs to it (COPY data starts on the next line).
        cut = len(line) if not line[semicolon + 1:].strip() else semicolon + 1
        self._text += line[:cut]
        yield self._piece(STATEMENT, end)
        self._start_piece()
        rest = line[cut:]
        if self._copy_pending and rest:
            raise self._unsafe("holds more after a COPY ... FROM STDIN statement, on the line where "
                               "its data would start")
        return rest

    def _meta_command(self, line: bytes, position: int) -> Piece:
        if self._body_start is not None and self._body_start < len(self._text) + position:
            raise self._unsafe(f"holds a psql meta-command inside a statement ({meta_name(line, position)})")
        start = len(self._text) + position
        self._text += line
        piece = Piece(META_COMMAND, bytes(self._text), self.line_number, start,
                      start + len(line[position:].rstrip(b"\r\n")))
        self._start_piece()
        return piece

    def _unsafe(self, what: str) -> UnsafeDump:
        return UnsafeDump(f"{self.source} line {self.line_number} {what}: a pg_dump file holds none",
                          line=self.line_number)

    def _track_atomic(self, word: bytes) -> None:
        if self._paren_depth:
            return
        if word == b"begin":
            self._begin_depth += 1
        elif word == b"case" and self._begin_depth:
            self._begin_depth += 1
        elif word == b"end" and self._begin_depth:
            self._begin_depth -= 1


def meta_name(line: bytes, position: int) -> str:
    """`\\name` of the meta-command that starts at `position`."""
    match = META_NAME.match(line, position)
    return match.group().decode(errors="replace") if match else "\\"
