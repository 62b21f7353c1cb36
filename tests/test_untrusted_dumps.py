"""A dump reaches nothing but its scratch database, and every byte of it arrives (issue: untrusted dumps).

Every hostile input is built from the project's own example `old_mole_0005.sql` (or from a
real pg_dump of it), so the tests follow the data model. After each run: the server's roles,
databases and settings are as they were, no file was written, the live database is unchanged,
and the run either loaded faithfully (bytes compared) or refused in one line with exit 2.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import INVOKE
from conftest import copy_project
from conftest import drop_live_database
from conftest import with_sample_data
from test_legacy_examples import EXAMPLES
from test_legacy_examples import bundles_of
from test_legacy_examples import scratch_databases

from tooling.errors import ToolingError
from tooling.errors import UnsafeDump
from tooling.legacy.dump_loading import load_dump
from tooling.legacy.inputs import detect
from tooling.process import ProcessRunner
from tooling.server.backends import LocalBackend
from tooling.server.local_server import binaries_dir
from tooling.versions import major_release

BASE = EXAMPLES / "old_mole_0005.sql"
AFTER_SETTINGS = b"SET default_table_access_method = heap;\n"
# The sample's first note (real Mole's note table: id, note, event, tester).
NOTE_TEXT = b"Confirmed visually from the tower."
NOTE_ROW = next(line for line in BASE.read_bytes().splitlines(keepends=True)
                if line.startswith(b"1\t" + NOTE_TEXT))
TRAILER = b"--\n-- PostgreSQL database dump complete\n--\n"
POSTGRES = {"PGUSER": "postgres"}


def dump_with(tmp_path: Path, name: str, extra: bytes, *, after: bytes = AFTER_SETTINGS) -> Path:
    """The example with `extra` inserted after `after` (by default: after pg_dump's SET lines)."""
    data = BASE.read_bytes()
    assert after in data
    target = tmp_path / name
    target.write_bytes(data.replace(after, after + extra, 1))
    return target


def example_rows(model: str) -> int:
    """How many rows the example's COPY block of `data_collection_<model>` holds."""
    lines = BASE.read_bytes().split(b"\n")
    copy = f"COPY public.data_collection_{model} ".encode()
    start = next(i for i, line in enumerate(lines) if line.startswith(copy))
    return lines.index(b"\\.", start) - start - 1


def last_statement_end() -> bytes:
    """The bytes that end the example's last statement: what follows is pg_dump's closing comment."""
    data = BASE.read_bytes()
    return data[: data.index(TRAILER)].rstrip(b"\n").rsplit(b"\n", 1)[-1] + b"\n"


LAST_STATEMENT = last_statement_end()


def server_state(project) -> dict:
    """What a dump must never change: roles, databases, server settings, the live database."""
    sql = project.server.sql
    auto_conf = project.server.data_dir / "pgdata" / "postgresql.auto.conf"
    live_tables = sql(project.database, "SELECT relname FROM pg_class "
                                        "WHERE relnamespace = 'public'::regnamespace ORDER BY 1")
    return {
        "roles": sql("postgres", "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, "
                                 "rolpassword IS NULL FROM pg_authid ORDER BY 1"),
        "databases": sql("postgres", "SELECT datname, datdba::regrole::text FROM pg_database ORDER BY 1"),
        "role_settings": sql("postgres", "SELECT * FROM pg_db_role_setting ORDER BY 1, 2"),
        "auto_conf": auto_conf.read_bytes(),
        "live": live_tables,
        "live_poses": sql(project.database, "SELECT count(*), sum(id) FROM data_collection_pose"),
    }


@pytest.fixture(scope="module")
def shared(server, sample_template, tmp_path_factory):
    """One migrated project with the sample campaign for the whole module (a live database to guard)."""
    made = with_sample_data(copy_project(server, tmp_path_factory.mktemp("untrusted") / "project"),
                            sample_template)
    yield made
    drop_live_database(made)


@pytest.fixture
def guarded(shared):
    """The shared project; afterwards, nothing outside the scratch database may have changed."""
    before = server_state(shared)
    yield shared
    leftovers = scratch_databases(shared)
    for name in leftovers:
        drop_database(shared, name)
    shutil.rmtree(shared.root / "db_backups" / "bundles", ignore_errors=True)
    assert leftovers == []
    assert server_state(shared) == before
    assert shared.sql("SELECT rolname FROM pg_roles WHERE rolname LIKE 'mole\\_load\\_%'", "postgres") == []


def backend_of(project) -> LocalBackend:
    return LocalBackend(ProcessRunner(), project.database, project.root / "mole", project.server.data_dir)


@contextmanager
def loaded(project, source: Path, **options):
    """`source` loaded by the loader alone into a scratch database (dropped afterwards)."""
    backend = backend_of(project)
    with backend.admin.scratch_database("test") as scratch:
        load_dump(backend, detect(source), scratch, **options)
        yield scratch


def refusal(project, source: Path) -> str:
    """The one line the loader refuses `source` with (what `invoke legacy` prints after `error: `)."""
    with pytest.raises(ToolingError) as refused:
        with loaded(project, source):
            pass
    message = str(refused.value)
    assert "\n" not in message
    return message


def assert_refused_in_one_line(project, result, message: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert bundles_of(project) == []


def pg_dump(project, database: str, target: Path, *options: str) -> Path:
    argv = [str(binaries_dir() / "pg_dump"), f"--dbname={database}", f"--file={target}", *options]
    subprocess.run(argv, env={**os.environ, **project.server.environment, **POSTGRES}, check=True)
    return target


def source_database(project, name: str, setup: list[str] = ()) -> str:
    """A database on the test server loaded from the example, then changed by `setup`."""
    # template0: the example creates its extensions' schemas itself, as pg_dump wrote them.
    project.server.sql("postgres", f'CREATE DATABASE "{name}" TEMPLATE template0')
    argv = [str(binaries_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={name}",
            f"--file={BASE}"]
    subprocess.run(argv, env={**os.environ, **project.server.environment, **POSTGRES}, check=True,
                   capture_output=True)
    for statement in setup:
        project.server.sql(name, statement)
    return name


def drop_database(project, name: str) -> None:
    project.server.sql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def kept_scratch(result) -> str:
    line = next(line for line in result.stdout.splitlines() if line.startswith("Kept the scratch database"))
    return line.rsplit(" ", 1)[-1].rstrip(".")


# -- meta-commands and connections: nothing of psql's runs ------------------------------------------


@pytest.mark.parametrize(
    "extra, message",
    [
        (b"\\! touch {marker}\n", "meta-command \\! is refused"),
        (b"\\c {live}\nCREATE TABLE public.planted (id int);\n", "\\c would connect to another database"),
        (b"\\connect {live}\n", "\\connect would connect to another database"),
        (b"\\o {marker}\n", "meta-command \\o is refused"),
        (b"\\i {marker}\n", "meta-command \\i is refused"),
        (b"\\ir {marker}\n", "meta-command \\ir is refused"),
        (b"\\copy public.auth_group TO '{marker}'\n", "meta-command \\copy is refused"),
        (b"\\set ON_ERROR_STOP 0\n", "meta-command \\set is refused"),
        (b"\\setenv PGHOST /tmp\n", "meta-command \\setenv is refused"),
        (b"SELECT 'touch {marker}' \\gexec\n", "meta-command inside a statement (\\gexec)"),
        (b"SELECT :'DBNAME';\n", "psql variable"),
    ],
    ids=["shell", "c-live", "connect-live", "o", "i", "ir", "copy", "set", "setenv", "gexec", "variable"],
)
def test_no_meta_command_of_a_dump_runs(guarded, tmp_path, extra, message):
    marker = tmp_path / "marker"
    extra = extra.replace(b"{marker}", str(marker).encode()).replace(b"{live}", guarded.database.encode())
    assert message in refusal(guarded, dump_with(tmp_path, "meta.sql", extra))
    assert not marker.exists()


def test_invoke_legacy_refuses_a_shell_command_in_one_line(guarded, tmp_path):
    marker = tmp_path / "marker"
    source = dump_with(tmp_path, "shell.sql", f"\\! touch {marker}\n".encode())
    result = guarded.invoke("legacy", "--db", str(source))
    data = BASE.read_bytes()
    line = data[: data.index(AFTER_SETTINGS) + len(AFTER_SETTINGS)].count(b"\n") + 1
    expected = f"shell.sql line {line}: the psql meta-command \\! is refused"
    assert_refused_in_one_line(guarded, result, expected)
    assert not marker.exists()


def test_a_meta_command_in_a_comment_or_literal_is_text(guarded, tmp_path):
    marker = tmp_path / "marker"
    text = f"first line\nDROP TABLE public.data_collection_pose;\nGRANT ALL ON x TO y;\n\\! touch {marker}"
    comments = f"/* \\! touch {marker} */\n-- \\! touch {marker}\n".encode()
    described = f"COMMENT ON TABLE public.data_collection_note IS '{text}';\n".encode()
    source = dump_with(tmp_path, "comments.sql", comments + described, after=LAST_STATEMENT)
    result = guarded.invoke("legacy", "--db", str(source), "--keep-scratch", check=True)
    scratch = kept_scratch(result)
    try:
        [[stored]] = guarded.sql("SELECT obj_description('public.data_collection_note'::regclass)", scratch)
        assert stored == text
        assert not marker.exists()
    finally:
        drop_database(guarded, scratch)


# -- what only the server could do: refused, or stopped by the load role -----------------------------


@pytest.mark.parametrize(
    "extra, message",
    [
        (b"COPY public.auth_group FROM PROGRAM 'touch {marker}';\n", "COPY to or from a file or program"),
        (b"COPY public.auth_group TO '{marker}';\n", "COPY to or from a file or program"),
        (b"ALTER SYSTEM SET work_mem = '1GB';\n", "ALTER SYSTEM acts on the server"),
        (b"CREATE ROLE planted SUPERUSER LOGIN PASSWORD 'pw';\n", "CREATE ROLE acts on the server"),
        (b"GRANT pg_read_server_files TO CURRENT_USER;\n", "GRANT of a role acts on the server"),
        (b"CREATE DATABASE one;\nCREATE DATABASE two;\n", "a second CREATE DATABASE"),
        (b"SELECT pg_catalog.pg_read_file('/etc/hostname');\n", "denied for function pg_read_file"),
        (b"SELECT pg_catalog.lo_import('/etc/hostname');\n", "denied for function lo_import"),
        (b"DO $$ BEGIN EXECUTE 'CREATE ROLE planted SUPERUSER'; END $$;\n", "DO block"),
        (b"CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE "
         b"'CREATE ROLE planted SUPERUSER'; END $$;\nSELECT public.f();\n",
         "must be superuser to create superusers"),
        (b"SET session_replication_role = replica;\n", "permission denied to set parameter"),
        (b"CREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA public;\n", "a Mole database does not use"),
    ],
    ids=["copy-program", "copy-file", "alter-system", "create-role", "grant-role", "two-databases",
         "read-file", "lo-import", "do-create-role", "function-create-role", "superuser-setting", "dblink"],
)
def test_what_acts_on_the_server_is_refused_or_denied(guarded, tmp_path, extra, message):
    marker = tmp_path / "marker"
    source = dump_with(tmp_path, "server.sql", extra.replace(b"{marker}", str(marker).encode()))
    assert message in refusal(guarded, source)
    assert not marker.exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (b"CREATE FUNCTION public.flip() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SET standard_' "
         b"|| 'conforming_strings = off'; END $$;\nSELECT public.flip();\n",
         "lost track of the session settings"),
        (b"UPDATE pg_catalog.pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings';\n",
         "writes to a system catalog"),
        (b"SAVEPOINT s;\nSET standard_conforming_strings = off;\nROLLBACK TO SAVEPOINT s;\n", "a savepoint"),
        (b"CREATE FUNCTION public.always(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;\n"
         b"CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.always);\n"
         b"SET search_path = public, pg_catalog;\n"
         b"CREATE FUNCTION public.flip() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
         b"SET standard_conforming_strings = off; END $$;\nSELECT public.flip();\n",
         "lost track of the session settings"),
    ],
    ids=["function-sets", "pg-settings", "savepoint", "own-equals-operator"],
)
def test_settings_changed_behind_the_readers_back_stop_the_load(guarded, tmp_path, extra, message):
    assert message in refusal(guarded, dump_with(tmp_path, "desync.sql", extra))


def test_a_nul_byte_is_refused(guarded, tmp_path):
    source = dump_with(tmp_path, "nul.sql", b"SELECT 'a\x00';\n", after=LAST_STATEMENT)
    assert "holds a NUL byte" in refusal(guarded, source)


@pytest.mark.parametrize(
    "extra, found",
    [
        (b"CREATE FUNCTION public.planted() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
         b"DROP TABLE public.data_collection_pose;\nGRANT ALL ON public.auth_user TO PUBLIC;\n"
         b"REVOKE ALL ON public.auth_group FROM PUBLIC;\nRETURN NEW;\nEND $$;\n",
         "function public.planted()"),
        (b"ALTER TABLE public.auth_group ALTER COLUMN name SET DEFAULT "
         b"(pg_catalog.lo_export(0, '/tmp/planted'))::text;\n", "a call of lo_export(oid,text)"),
        (b"ALTER TABLE public.django_migrations ADD CONSTRAINT planted CHECK (pg_catalog.ts_rewrite("
         b"'a'::tsquery, 'select ''a''::tsquery, ''b''::tsquery from (select pg_catalog.lo_export(0, "
         b"''/tmp/planted'')) x') IS NOT NULL) NOT VALID;\n", "a call of ts_rewrite(tsquery,text)"),
        (b"ALTER TABLE public.auth_group ALTER COLUMN name SET DEFAULT "
         b"pg_catalog.query_to_xml('select 1', false, false, '')::text;\n", "a call of query_to_xml("),
        (b"CREATE SCHEMA postgres;\nCREATE TABLE postgres.django_migrations (id int);\n", "schema postgres"),
        (b"DO $$BEGIN EXECUTE 'CREATE EXTENSION tablefunc SCHEMA public'; END$$;\n", "DO block"),
    ],
    ids=["function", "superuser-default", "ts-rewrite-check", "query-to-xml-default", "user-schema",
         "do-extension"],
)
def test_code_a_dump_brings_is_refused_before_the_tooling_runs_it(guarded, tmp_path, extra, found):
    source = dump_with(tmp_path, "code.sql", extra, after=LAST_STATEMENT)
    result = guarded.invoke("legacy", "--db", str(source))
    assert_refused_in_one_line(guarded, result, found)
    assert not Path("/tmp/planted").exists()


def test_an_extension_in_a_schema_named_after_a_role_is_refused(guarded, tmp_path):
    extra = b"CREATE SCHEMA postgres;\nCREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA postgres;\n"
    assert "schema postgres, named after a role" in refusal(guarded, dump_with(tmp_path, "trgm.sql", extra))


def test_code_in_a_custom_format_dump_is_refused_too(guarded, tmp_path):
    name = "code_source"
    source_database(guarded, name, [
        "CREATE FUNCTION public.planted() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$",
        "ALTER TABLE public.auth_group ALTER COLUMN name SET DEFAULT public.planted()",
    ])
    try:
        dump = pg_dump(guarded, name, tmp_path / "code.dump", "--format=custom")
    finally:
        drop_database(guarded, name)
    assert "function public.planted()" in refusal(guarded, dump)


def test_a_function_body_reaches_the_server_byte_for_byte(guarded, tmp_path):
    """The loader alone (the pipeline refuses the function afterwards): prosrc equals the source bytes."""
    body = (b"\nBEGIN\n  -- a comment; with \\! inside\n  DROP TABLE public.data_collection_pose;\n"
            b"  GRANT ALL ON public.auth_user TO PUBLIC;\n  REVOKE ALL ON public.auth_group FROM PUBLIC;\n"
            b"  RETURN 'it''s';\nEND\n")
    extra = b"CREATE FUNCTION public.kept() RETURNS text LANGUAGE plpgsql AS $body$" + body + b"$body$;\n"
    source = dump_with(tmp_path, "function.sql", extra, after=LAST_STATEMENT)
    with backend_of(guarded).admin.scratch_database("test") as scratch:
        with pytest.raises(UnsafeDump, match="brings what would later run"):
            load_dump(backend_of(guarded), detect(source), scratch)
        [[stored]] = guarded.sql("SELECT prosrc FROM pg_proc WHERE proname = 'kept'", scratch)
    assert stored.encode() == body


# -- what pg_dump writes for another server: left out, and the dump loads ---------------------------


OWNED = [
    "CREATE ROLE alice", "CREATE ROLE bob",
    "DO $$ DECLARE r record; BEGIN FOR r IN SELECT format('%I.%I', schemaname, tablename) AS t "
    "FROM pg_tables WHERE schemaname = 'public' LOOP EXECUTE 'ALTER TABLE ' || r.t || ' OWNER TO alice'; "
    "END LOOP; END $$",
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO bob",
    "ALTER DEFAULT PRIVILEGES FOR ROLE alice IN SCHEMA public GRANT SELECT ON TABLES TO bob",
]


@pytest.mark.parametrize(
    "options",
    [
        ["--format=plain"],
        ["--format=plain", "--use-set-session-authorization"],
        ["--format=custom"],
        ["--format=plain", "--clean"],
        ["--format=plain", "--clean", "--if-exists"],
        ["--format=plain", "--clean", "--create"],
        ["--format=custom", "--clean", "--create"],
        ["--format=plain", "--column-inserts"],
    ],
    ids=["owners", "session-authorization", "custom", "clean", "clean-if-exists", "clean-create",
         "custom-clean-create", "column-inserts"],
)
def test_a_dump_owned_by_roles_this_server_lacks_loads(guarded, tmp_path, options):
    note = "Grace's note\nDROP TABLE public.data_collection_pose;\nGRANT ALL ON x TO y;\n\\! rm -rf /"
    name = "owned_source"
    source_database(guarded, name, [*OWNED, f"ALTER DATABASE {name} SET work_mem = '64MB'",
                                    "UPDATE data_collection_note SET note = "
                                    f"'{note.replace(chr(39), chr(39) * 2)}' WHERE id = 1"])
    try:
        dump = pg_dump(guarded, name, tmp_path / "owned.dump", *options)
    finally:
        drop_database(guarded, name)
        for statement in ("DROP OWNED BY alice, bob CASCADE", "DROP ROLE alice", "DROP ROLE bob"):
            guarded.server.sql("postgres", statement)
    with loaded(guarded, dump) as scratch:
        assert guarded.sql("SELECT note FROM data_collection_note WHERE id = 1", scratch) == [(note,)]
        owners = guarded.sql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'", scratch)
        assert owners == [("postgres",)]
        assert guarded.sql("SELECT * FROM pg_db_role_setting WHERE setdatabase = "
                           "(SELECT oid FROM pg_database WHERE datname = current_database())", scratch) == []


PG10_CLEAN = b"""DROP EXTENSION plpgsql;
DROP SCHEMA public;
CREATE SCHEMA public;
ALTER SCHEMA public OWNER TO postgres;
COMMENT ON SCHEMA public IS 'standard public schema';
CREATE EXTENSION IF NOT EXISTS plpgsql WITH SCHEMA pg_catalog;
COMMENT ON EXTENSION plpgsql IS 'PL/pgSQL procedural language';
"""


@pytest.mark.parametrize("name", ["MoleExp", "mole-exp é"])
def test_a_create_dump_of_a_database_whose_name_needs_quoting_loads(guarded, tmp_path, name):
    settings = f"ALTER ROLE carol IN DATABASE \"{name}\" SET work_mem = '9MB'"
    source_database(guarded, name, ["CREATE ROLE carol", settings])
    try:
        dump = pg_dump(guarded, name, tmp_path / "created.sql", "--create")
    finally:
        drop_database(guarded, name)
        guarded.server.sql("postgres", "DROP ROLE carol")
    with loaded(guarded, dump) as scratch:
        assert guarded.sql("SELECT count(*) FROM data_collection_note", scratch) == [(example_rows("note"),)]


def test_a_clean_dump_of_postgresql_10_and_older_loads(guarded, tmp_path):
    # pg_dump --clean writes its DROPs right after the session settings, before any CREATE.
    source = dump_with(tmp_path, "pg10_clean.sql", PG10_CLEAN, after=b"SET row_security = off;\n")
    guarded.invoke("legacy", "--db", str(source), "--name", "pg10", check=True)
    assert bundles_of(guarded) == ["pg10"]


# -- cluster dumps -------------------------------------------------------------------------------------


def test_a_cluster_dump_is_refused_and_says_what_it_is(guarded, tmp_path):
    cluster = (b"--\n-- PostgreSQL database cluster dump\n--\n\nCREATE ROLE postgres;\n"
               b"ALTER ROLE postgres WITH SUPERUSER LOGIN PASSWORD 'md5x';\n\\connect mole\n")
    source = tmp_path / "cluster.sql"
    source.write_bytes(cluster + BASE.read_bytes())
    result = guarded.invoke("legacy", "--db", str(source))
    assert_refused_in_one_line(guarded, result, "whole-cluster dump made by pg_dumpall")
    assert "pg_dump --dbname=mole" in result.stderr


def test_roles_and_connections_without_the_cluster_header_are_refused_too(guarded, tmp_path):
    source = dump_with(tmp_path, "roles.sql", b"CREATE ROLE planted;\n")
    assert "CREATE ROLE acts on the server" in refusal(guarded, source)


# -- encodings -----------------------------------------------------------------------------------------


def sql_ascii_dump(tmp_path) -> Path:
    data = BASE.read_bytes().replace(b"SET client_encoding = 'UTF8';", b"SET client_encoding = 'SQL_ASCII';")
    data = data.replace(NOTE_ROW, NOTE_ROW.replace(NOTE_TEXT, NOTE_TEXT[:-1] + b", caf\xe9."))
    target = tmp_path / "sql_ascii.sql"
    target.write_bytes(data)
    return target


def test_text_the_database_cannot_store_is_refused_naming_table_column_and_key(guarded, tmp_path):
    result = guarded.invoke("legacy", "--db", str(sql_ascii_dump(tmp_path)))
    assert_refused_in_one_line(guarded, result, "table public.data_collection_note, column note, row 1:")
    assert "--source-encoding" in result.stderr


def test_the_real_encoding_named_by_the_user_is_converted_and_reported(guarded, tmp_path):
    result = guarded.invoke("legacy", "--db", str(sql_ascii_dump(tmp_path)), "--source-encoding", "latin-1",
                            "--name", "latin", "--keep-scratch", check=True)
    scratch = kept_scratch(result)
    try:
        assert guarded.sql("SELECT note FROM data_collection_note WHERE id = 1", scratch) == [
            (NOTE_TEXT[:-1].decode() + ", café.",)]
    finally:
        drop_database(guarded, scratch)
    report = (guarded.root / "db_backups" / "bundles" / "latin" / "REPORT.md").read_text()
    assert "converted from LATIN1 (--source-encoding)" in report
    guarded.invoke("bundle-check", "--name", "latin", check=True)


def test_a_source_encoding_for_a_dump_that_declares_utf8_is_refused(guarded):
    assert "--source-encoding is for dumps that say SQL_ASCII" in refusal_with(guarded, BASE, "LATIN1")


def refusal_with(project, source: Path, encoding: str) -> str:
    with pytest.raises(ToolingError) as refused:
        with loaded(project, source, source_encoding=encoding):
            pass
    return str(refused.value)


def test_an_unknown_source_encoding_is_refused(guarded, tmp_path):
    result = guarded.invoke("legacy", "--db", str(BASE), "--source-encoding", "klingon")
    assert_refused_in_one_line(guarded, result, "not an encoding PostgreSQL knows")


def test_standard_conforming_strings_off_is_followed(guarded, tmp_path):
    data = BASE.read_bytes().replace(b"SET standard_conforming_strings = on;",
                                     b"SET standard_conforming_strings = off;")
    comment = b"COMMENT ON TABLE public.auth_group IS 'it\\'s; DROP TABLE x; \\\\! not run';\n"
    source = tmp_path / "scs_off.sql"
    source.write_bytes(data.replace(TRAILER, comment + TRAILER))
    with loaded(guarded, source) as scratch:
        assert guarded.sql("SELECT obj_description('public.auth_group'::regclass)", scratch) == [
            ("it's; DROP TABLE x; \\! not run",)]


# -- versions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["19.1", "19beta1", "19rc1", "19devel", "19.0 (Debian 19.0-1.pgdg120+1)"])
def test_a_dump_from_a_newer_pg_dump_is_refused_whatever_its_version_string(guarded, tmp_path, version):
    data = BASE.read_bytes()
    header = next(line for line in data.splitlines() if line.startswith(b"-- Dumped by pg_dump version"))
    source = tmp_path / "newer.sql"
    source.write_bytes(data.replace(header, b"-- Dumped by pg_dump version " + version.encode(), 1))
    message = refusal(guarded, source)
    assert f"pg_dump {version.split()[0]}, newer than this server" in message


@pytest.mark.parametrize(
    "version, major",
    [("18.6", (18,)), ("15.20", (15,)), ("11.22 (Debian 11.22-1.pgdg120+1)", (11,)), ("9.6.24", (9, 6)),
     ("19beta1", (19,)), ("19rc1", (19,)), ("19devel", (19,)), ("10.0", (10,))],
)
def test_every_version_form_has_its_major_release(version, major):
    assert major_release(version) == major


def test_sigterm_during_a_load_leaves_no_role_and_no_scratch_database(guarded, tmp_path):
    source = dump_with(tmp_path, "slow.sql", b"SELECT pg_catalog.pg_sleep(120);\n")
    running = subprocess.Popen([INVOKE, "legacy", "--db", str(source)], cwd=guarded.root, env=guarded.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not guarded.sql("SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' "
                          "AND usename LIKE 'mole\\_load\\_%'", "postgres"):
        assert time.monotonic() < deadline and running.poll() is None, running.communicate()
        time.sleep(0.2)
    running.send_signal(signal.SIGTERM)
    out, err = running.communicate(timeout=60)
    assert running.returncode == 130, out + err
    assert err.strip() == "interrupted"
