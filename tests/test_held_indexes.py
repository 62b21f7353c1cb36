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
    assert [setting.strip() for setting in held.settings] == [
        b"SET standard_conforming_strings = on;", b"SELECT pg_catalog.set_config('search_path', '', false);"]


def test_a_select_that_sets_a_setting_otherwise_stops_the_holding(tmp_path):
    script = SCRIPT.replace(b"COMMENT ON INDEX public.t_lower IS 'described';",
                            b"SELECT pg_catalog.set_config('search_path', 'public', false), 1 FROM public.t;")
    source = tmp_path / "stopped.sql"
    source.write_bytes(script)
    held = HeldIndexes()
    lines = script.splitlines(keepends=True)
    sent = b"".join(script_chunks(lines, DumpPolicy("stopped.sql"), detect(source), held))
    assert held.stopped and held.indexes == [] and b"CREATE INDEX t_last" in sent


def test_an_index_built_after_the_load_is_read_with_the_settings_the_script_made(project, tmp_path):
    """With standard_conforming_strings off, 'a\\\\b' is a, one backslash, b: the building session
    replays the script's SETs before the index, so its predicate holds the same text."""
    extra = (b"SET standard_conforming_strings = off;\n"
             b"CREATE INDEX campaign_not_ab ON public.data_collection_campaign USING btree (name) "
             b"WHERE ((name)::text <> 'a\\\\b'::text);\n")
    source = dump_with(tmp_path, "escaped.sql", extra, after=LAST_STATEMENT)
    with loaded(project, source) as scratch:
        [[definition]] = project.sql("SELECT pg_get_indexdef('public.campaign_not_ab'::regclass)", scratch)
    assert definition.endswith("WHERE ((name)::text <> 'a\\b'::text)"), definition
