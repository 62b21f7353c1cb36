"""The script reader cuts a dump where psql would, and hands every byte on unchanged."""

from __future__ import annotations

import pytest
from test_legacy_examples import EXAMPLES

from tooling.errors import ToolingError
from tooling.legacy.dump_policy import parsed
from tooling.legacy.psql_script import COPY_DATA
from tooling.legacy.psql_script import COPY_END
from tooling.legacy.psql_script import META_COMMAND
from tooling.legacy.psql_script import STATEMENT
from tooling.legacy.psql_script import ScriptReader
from tooling.legacy.text_encoding import check_copy_data


def pieces(script: bytes, *, standard_conforming_strings: bool = True):
    reader = ScriptReader(script.splitlines(keepends=True))
    reader.standard_conforming_strings = standard_conforming_strings
    found = []
    for piece in reader:
        found.append(piece)
        if piece.kind == STATEMENT and piece.body.upper().startswith(b"COPY"):
            reader.expect_copy_data()
    return found


def bodies(script: bytes, **options) -> list[bytes]:
    return [piece.body for piece in pieces(script, **options) if piece.kind == STATEMENT]


@pytest.mark.parametrize("example", ["old_mole_0005.sql", "divergent_draft.sql"])
def test_the_pieces_of_a_real_dump_add_up_to_its_bytes(example):
    data = (EXAMPLES / example).read_bytes()
    found = pieces(data)
    assert b"".join(piece.text for piece in found) == data
    assert sum(piece.kind == COPY_END for piece in found) == data.count(b"\n\\.\n")


@pytest.mark.parametrize(
    "statement",
    [
        b"INSERT INTO t VALUES ('a;b');",
        b"INSERT INTO t VALUES ('it''s; fine');",
        b"INSERT INTO t VALUES (E'it\\'s; fine');",
        b"INSERT INTO t VALUES ($$a;b$$);",
        b"INSERT INTO t VALUES ($tag$ $$; $tag$);",
        b'CREATE TABLE "odd;name" (id int);',
        b"SELECT 1 /* a ; /* nested ; */ still ; */;",
        b"SELECT 1 -- a ; comment\n;",
        b"CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); INSERT INTO u VALUES (2));",
        b"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true "
        b"THEN 2 END; END;",
        b"INSERT INTO t VALUES ('line one\nDROP TABLE t;\nGRANT ALL ON t TO x;');",
        b"INSERT INTO t VALUES ('\\! not a command', E'\\\\', '::x', ':y');",
    ],
    ids=["plain", "doubled", "escape", "dollar", "tagged", "identifier", "comment", "line-comment",
         "rule", "atomic", "multiline", "backslashes"],
)
def test_a_semicolon_inside_a_literal_comment_or_body_ends_nothing(statement):
    script = statement + b"\nSELECT 2;\n"
    assert bodies(script) == [statement, b"SELECT 2;"]


def test_standard_conforming_strings_off_makes_a_backslash_escape_the_quote():
    script = b"SELECT 'a\\'; b';\n"
    assert bodies(script, standard_conforming_strings=False) == [script.strip()]
    assert bodies(script, standard_conforming_strings=True) == [b"SELECT 'a\\';"]


def test_meta_commands_are_pieces_of_their_own_and_only_outside_literals_and_comments():
    found = pieces(b"SELECT 1;\n\\! touch /tmp/x\n-- \\! in a comment\nSELECT '\\o file';\n")
    assert [(piece.kind, piece.body) for piece in found] == [
        (STATEMENT, b"SELECT 1;"),
        (META_COMMAND, b"\\! touch /tmp/x"),
        (STATEMENT, b"SELECT '\\o file';"),
    ]


@pytest.mark.parametrize(
    "script, message",
    [
        (b"SELECT 1 \\g\n", "meta-command inside a statement (\\g)"),
        (b"SELECT :foo;\n", "psql variable (:f"),
        (b"SELECT :'DBNAME';\n", "psql variable (:'"),
        (b"COPY t FROM stdin; SELECT 2;\n1\n\\.\n", "more after a COPY"),
        (b"COPY t FROM stdin;\n1\n", "is truncated: it ends inside COPY data"),
    ],
    ids=["inline-meta", "variable", "quoted-variable", "after-copy", "unended-copy"],
)
def test_what_psql_would_interpret_itself_is_refused(script, message):
    with pytest.raises(ToolingError) as refused:
        pieces(script)
    assert message in str(refused.value)


def test_a_letter_ending_an_identifier_is_no_string_prefix():
    assert bodies(b"SELECT abcE'x\\';\nSELECT E'y\\';';\n") == [b"SELECT abcE'x\\';", b"SELECT E'y\\';';"]


def test_a_literal_on_the_next_line_is_a_new_one_for_psql():
    """The server would read `'b\\'` as the continuation of `E'a'` (escapes and all); psql, which
    decides what is a meta-command, reads it as a new plain literal. The reader follows psql."""
    script = b"SELECT E'a'\n'b\\'; \\! touch /tmp/x\n--';\n"
    found = pieces(script)
    assert [(piece.kind, piece.body) for piece in found[:2]] == [
        (STATEMENT, b"SELECT E'a'\n'b\\';"), (META_COMMAND, b"\\! touch /tmp/x")]


def test_a_cast_is_not_a_variable():
    assert bodies(b"SELECT '1'::int, a[1:2];\n") == [b"SELECT '1'::int, a[1:2];"]


def test_copy_data_passes_as_whole_lines_whatever_they_hold():
    data = [b"1\t\\! touch /tmp/x\n", b"2\tDROP TABLE t; -- ';\n"]
    found = pieces(b"COPY t (id, note) FROM stdin;\n" + b"".join(data) + b"\\.\nSELECT 1;\n")
    assert [(piece.text, piece.line) for piece in found if piece.kind == COPY_DATA] == [(b"".join(data), 2)]
    assert [piece.line for piece in found if piece.kind == COPY_END] == [4]
    assert found[-1].body == b"SELECT 1;"


def test_a_nul_byte_in_copy_data_is_refused_at_its_own_line_though_data_passes_in_blocks():
    data = b"1\tfirst\n2\tsecond\n3\tthi\x00rd\n"
    with pytest.raises(ToolingError, match=r"line 4 holds a NUL byte in COPY data"):
        pieces(b"COPY t (id, note) FROM stdin;\n" + data + b"\\.\n")


def test_text_that_is_not_utf8_is_named_by_its_line_column_and_key_within_a_block():
    copy = parsed(b"COPY public.t (id, note) FROM stdin;")
    block = b"1\tcaf\xc3\xa9\n2\tplain\n3\tcaf\xe9\n"
    with pytest.raises(ToolingError, match=r"dump.sql line 12: table public.t, column note, row 3:"):
        check_copy_data(block, copy, 10, "dump.sql")
    check_copy_data(block[:-len(b"3\tcaf\xe9\n")], copy, 10, "dump.sql")  # UTF-8 passes
