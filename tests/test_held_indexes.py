"""Plain indexes held back from a dump's transaction and built after it by two sessions: which
statements are held, what releases them, and that a held index is read with the script's settings."""

from __future__ import annotations

from test_untrusted_dumps import LAST_STATEMENT
from test_untrusted_dumps import dump_with
from test_untrusted_dumps import loaded

from tooling.legacy.dump_policy import DumpPolicy
from tooling.legacy.held_indexes import HeldIndexes
from tooling.legacy.inputs import detect
from tooling.legacy.script_stream import script_chunks

SCRIPT = b"""SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.t (id integer PRIMARY KEY, note text);
CREATE INDEX t_note ON public.t USING btree (note);
CREATE UNIQUE INDEX t_note_unique ON public.t USING btree (note);
CREATE INDEX t_lower ON public.t USING btree (lower(note));
ALTER TABLE ONLY public.t ADD CONSTRAINT t_fk FOREIGN KEY (id) REFERENCES public.t(id);
COMMENT ON INDEX public.t_lower IS 'described';
CREATE INDEX t_last ON public.t USING gist (note);
ALTER TABLE ONLY public.t ADD CONSTRAINT t_fk2 FOREIGN KEY (id) REFERENCES public.t(id);

--
-- PostgreSQL database dump complete
--

"""


def test_plain_indexes_are_held_until_a_statement_that_may_need_them_and_the_rest_to_the_end(tmp_path):
    source = tmp_path / "held.sql"
    source.write_bytes(SCRIPT)
    held = HeldIndexes()
    lines = SCRIPT.splitlines(keepends=True)
    sent = b"".join(script_chunks(lines, DumpPolicy("held.sql"), detect(source), held))
    order = (b"CREATE UNIQUE INDEX", b"ADD CONSTRAINT t_fk ", b"CREATE INDEX t_note ",
             b"CREATE INDEX t_lower", b"COMMENT ON INDEX")
    position = {name: sent.index(name) for name in order}
    # A unique index is sent in place; plain ones wait past it and a foreign key, and come before
    # the comment that needs one of them, in their order.
    assert list(position) == sorted(position, key=position.get)
    assert b"t_last" not in sent and b"t_fk2" in sent
    assert [index.text.split(b"\n")[0] for index in held.indexes] == [
        b"CREATE INDEX t_last ON public.t USING gist (note);"]
    # The script's last statement copies its session's settings for the building sessions.
    assert sent.rstrip().endswith(b"NOT pg_catalog.starts_with(name, 'transaction_');")
    assert f"CREATE SCHEMA {held.schema};".encode() in sent


def test_an_index_on_a_table_named_without_its_schema_or_a_temporary_one_is_sent_in_place(tmp_path):
    """Another session would find another table (or none) under such a name."""
    script = SCRIPT.replace(b"CREATE INDEX t_last ON public.t", b"CREATE INDEX t_last ON t").replace(
        b"CREATE INDEX t_note ON public.t", b"CREATE INDEX t_note ON pg_temp.t").replace(
        b"CREATE INDEX t_lower ON public.t", b'CREATE INDEX t_lower ON U&"pg\\005ftemp".t')
    source = tmp_path / "unqualified.sql"
    source.write_bytes(script)
    held = HeldIndexes()
    sent = b"".join(script_chunks(script.splitlines(keepends=True), DumpPolicy("unqualified.sql"),
                                  detect(source), held))
    assert held.indexes == [] and b"CREATE INDEX t_last ON t USING" in sent
    assert sent.index(b"CREATE INDEX t_note") < sent.index(b"CREATE UNIQUE INDEX") < sent.index(b"t_lower")
    assert b"pg_settings" not in sent


# An index whose date literal reads 1 February under DateStyle DMY, 2 January under MDY.
SINCE = (b"CREATE INDEX campaign_since ON public.data_collection_campaign USING btree (name) "
         b"WHERE (start_datetime > '01/02/2020 00:00+00'::timestamp with time zone);\n")


def after_load(project, source, *indexes: str) -> list:
    """`source` loaded: each named index's definition, then how many settings' copies are left."""
    with loaded(project, source) as scratch:
        found = [project.sql(f"SELECT pg_get_indexdef('public.{name}'::regclass)", scratch)[0][0]
                 for name in indexes]
        copies = project.sql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'mole_held_%'", scratch)
    return [*found, copies[0][0]]


def test_an_index_built_after_the_load_is_read_with_the_settings_the_script_left(project, tmp_path):
    """With standard_conforming_strings off, 'a\\\\b' is a, one backslash, b; with DateStyle DMY
    set by a prepared statement (no SET the loader could read), '01/02/2020' is the 1st of
    February. The building sessions take the loading session's settings as the script left them,
    so both indexes are what one psql session would have made; the settings' copy is gone after."""
    extra = (b"SET standard_conforming_strings = off;\n"
             b"PREPARE dmy AS SELECT pg_catalog.set_config('DateStyle', 'ISO, DMY', false);\n"
             b"EXECUTE dmy;\n"
             b"CREATE INDEX campaign_not_ab ON public.data_collection_campaign USING btree (name) "
             b"WHERE ((name)::text <> 'a\\\\b'::text);\n" + SINCE)
    source = dump_with(tmp_path, "settings.sql", extra, after=LAST_STATEMENT)
    escaped, since, copies = after_load(project, source, "campaign_not_ab", "campaign_since")
    assert escaped.endswith("WHERE ((name)::text <> 'a\\b'::text)"), escaped
    assert "'2020-02-01 " in since, since
    assert copies == 0


def test_defaults_a_function_gave_the_load_role_do_not_reach_the_building_sessions(project, tmp_path):
    """A function may run ALTER ROLE ... SET for the load role: the loading session never had that
    default, so the sessions that build its indexes must not have it either (reset before them)."""
    extra = (b"CREATE FUNCTION public.dmy() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
             b"EXECUTE pg_catalog.format('ALTER ROLE %I SET \"DateStyle\" = %L', current_user, 'ISO, DMY'); "
             b"END $$;\n"
             b"SELECT public.dmy();\nDROP FUNCTION public.dmy();\n" + SINCE)
    source = dump_with(tmp_path, "role_default.sql", extra, after=LAST_STATEMENT)
    since, _ = after_load(project, source, "campaign_since")
    assert "'2020-01-02 " in since, since


def test_a_transaction_setting_is_not_copied_to_the_building_sessions(project, tmp_path):
    """SET TRANSACTION is only allowed before a transaction's first query: copied into a building
    session, it would fail there though the loading session took it."""
    index = b"CREATE INDEX campaign_named ON public.data_collection_campaign USING btree (name);\n"
    source = dump_with(tmp_path, "isolation.sql", index, after=LAST_STATEMENT)
    header = b"--\n-- PostgreSQL database dump\n--\n"
    isolation = b"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;\n"
    source.write_bytes(source.read_bytes().replace(header, header + isolation, 1))
    with loaded(project, source) as scratch:
        [[found]] = project.sql("SELECT count(*) FROM pg_indexes WHERE indexname = 'campaign_named'",
                                scratch)
    assert found == 1
