"""The script as psql gets it from the loader: restricted mode first, then every piece the
policy keeps, byte for byte, each statement followed by an assertion of the session settings
the reader believes in.
"""
from __future__ import annotations

import secrets
from typing import Iterable
from typing import Iterator

from pglast import ast

from tooling.errors import NotADump
from tooling.errors import ToolingError
from tooling.legacy.dump_policy import EXTENSION_DATA
from tooling.legacy.dump_policy import KEEP
from tooling.legacy.dump_policy import SKIP
from tooling.legacy.dump_policy import DumpPolicy
from tooling.legacy.dump_policy import canonical_name
from tooling.legacy.held_indexes import HeldIndexes
from tooling.legacy.inputs import LegacyInput
from tooling.legacy.psql_script import COPY_DATA
from tooling.legacy.psql_script import COPY_END
from tooling.legacy.psql_script import TAIL
from tooling.legacy.psql_script import ScriptReader
from tooling.legacy.text_encoding import canonical_encoding
from tooling.legacy.text_encoding import check_copy_data
from tooling.legacy.text_encoding import check_statement
from tooling.legacy.text_encoding import checked

CHUNK_BYTES = 1 << 20
LOST_TRACK = "mole-loader lost track of the session settings"


def script_chunks(
    lines: Iterable[bytes], policy: DumpPolicy, legacy: LegacyInput, indexes: HeldIndexes | None = None
) -> Iterator[bytes]:
    """The script as psql gets it, in ~1 MB chunks: psql's restricted mode first, then each piece
    the policy keeps, unchanged. Given `indexes`, plain CREATE INDEX statements are held back
    there (held_indexes.py): sent later in the script, or left for building after it, with the
    session's settings copied by the script's last statement. Raises NotADump at the end when
    pg_dump's closing line never came: a dump cut short would otherwise load as a smaller,
    silently incomplete database.
    """
    source = legacy.path.name
    reader = ScriptReader(lines, source)
    pending = [f"\\restrict {secrets.token_hex(16)}\n".encode(),
               f"SET client_encoding = '{policy.source_encoding or 'UTF8'}';\n".encode()]
    size = 0
    held = b""  # a COPY into an extension's configuration table, sent only if a row follows
    for piece in reader:
        if held and piece.kind == COPY_END:
            # pg_dump writes these COPYs even when empty; the load role may not write there.
            policy.left_out(f"empty {EXTENSION_DATA}")
            held = b""
            continue
        pending.append(held)
        held = b""
        if piece.kind == COPY_DATA:
            if checked(policy.client_encoding):
                check_copy_data(piece.text, policy.copy_target, piece.line, source)
            text = piece.text
        elif piece.kind == COPY_END:
            text = piece.text + settings_assertion(policy, piece.line)
        elif piece.kind == TAIL and piece.body.strip():
            # pg_dump ends every statement with `;`: one without it at the end is cut short.
            raise NotADump(f"{legacy.path} is truncated: it ends inside the statement of line {piece.line}, "
                           "before pg_dump's 'dump complete' line")
        else:
            decision = policy.decide(piece)
            reader.standard_conforming_strings = policy.standard_conforming_strings
            copying = decision.action == KEEP and isinstance(decision.node, ast.CopyStmt)
            if copying:
                reader.expect_copy_data()
            if decision.action == KEEP and checked(policy.client_encoding):
                check_statement(piece, source)
            text = decision.output(piece)
            if copying and decision.why == EXTENSION_DATA:
                held = text
                continue
            # An empty statement (the script's end) does nothing an index could be needed for.
            if indexes is not None and decision.action != SKIP and piece.body.strip(b" \t\r\n;"):
                if indexes.takes(decision.node, text):
                    indexes.hold(decision.node, text + settings_assertion(policy, piece.line))
                    continue
                text = indexes.passing(decision.node) + text
            if decision.action != SKIP and not copying:  # after COPY, psql reads data lines next
                text += settings_assertion(policy, piece.line)
        pending.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if not reader.saw_trailer:
        raise NotADump(f"{legacy.path} is truncated: it ends before pg_dump's 'dump complete' line")
    if indexes is not None:
        pending.append(indexes.settings_copied())
    yield b"".join(pending)


def settings_assertion(policy: DumpPolicy, line: int) -> bytes:
    """A statement that fails unless the session's settings are what the reader believes: a dump
    that changed standard_conforming_strings or client_encoding some other way (a function, a
    savepoint rolled back) is stopped before psql reads another statement of it differently.
    Its text has no backslash, quote doubling or non-ASCII byte, so psql reads it the same either way;
    its failure is current_setting() of a setting named by the message (a stable function, so the
    planner does not run it ahead of the test, as it would an immutable one).
    """
    expected_strings = "on" if policy.standard_conforming_strings else "off"
    expected_encoding = encoding_key(policy.client_encoding or "UTF8")
    # Every name is qualified, the operator too: a dump may put its own `=` first in the search path.
    return (
        "SELECT CASE WHEN pg_catalog.current_setting('standard_conforming_strings') OPERATOR(pg_catalog.=) "
        f"'{expected_strings}' AND pg_catalog.upper(pg_catalog.regexp_replace(pg_catalog.current_setting("
        f"'client_encoding'), '[^A-Za-z0-9]', '', 'g')) OPERATOR(pg_catalog.=) '{expected_encoding}' "
        "THEN NULL ELSE "
        f"pg_catalog.current_setting('{LOST_TRACK} after line {line}') END;\n"
    ).encode()


def encoding_key(name: str) -> str:
    """The name the server reports for an encoding, with its punctuation removed."""
    try:
        return canonical_encoding(name)
    except ToolingError:
        return canonical_name(name)
