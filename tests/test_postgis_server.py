"""The local server is PostgreSQL with PostGIS; real Mole's dumps load into it whole.

Real Mole's dumps (`../shared/real-mole/dumps/`, made by real Mole's migrations on the PostGIS
image's four extensions) are the yardstick: every row of every table arrives, and what belongs
to an extension (`spatial_ref_sys`, the `tiger` and `topology` schemas) is no part of the schema
the tooling compares.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from conftest import REPO
from opened_session import OpenedSession
from opened_session import WebClient
from opened_session import copy_database_of
from test_backends import settings_with
from test_untrusted_dumps import backend_of

from schema.catalog import read_schema
from schema.compare import compare
from schema.compare import compare_names
from schema.fingerprint import app_tables
from schema.model import Schema
from tooling.compliance.lineage import schema_lineage
from tooling.compliance.lineage import step_named
from tooling.legacy.drift_conversion import convert_drift
from tooling.legacy.drift_conversion import plan_conversion
from tooling.legacy.dump_loading import load_dump
from tooling.legacy.inputs import detect
from tooling.server.database_facts import schema_snapshot
from tooling.server.extensions import EXTENSION_SCHEMAS
from tooling.server.extensions import MOLE_EXTENSIONS

REAL_MOLE = REPO.parent / "shared" / "real-mole"
# Named, not globbed: a missing dump fails its test rather than leaving it out.
REAL_DUMPS = [REAL_MOLE / "dumps" / f"mole_real_{step}.sql" for step in ("0001", "0005", "0010")]
# Inputs that broke the tooling before (their README says how), kept beside the repository.
SHARED_INPUTS = REPO.parent / "shared" / "inputs"
COPY_LINE = re.compile(rb"^COPY (\S+) \(.*\) FROM stdin;$")


def copied_rows(dump: Path) -> dict[str, int]:
    """Rows per table as the dump's COPY blocks hold them (`schema.table`: count)."""
    counts: dict[str, int] = {}
    table = None
    with dump.open("rb") as lines:
        for line in lines:
            line = line.rstrip(b"\n")
            if table is None:
                found = COPY_LINE.match(line)
                if found:
                    table = found.group(1).decode()
                    counts[table] = 0
            elif line == b"\\.":
                table = None
            else:
                counts[table] += 1
    return counts


def test_real_mole_dumps_are_here():
    missing = [path.name for path in REAL_DUMPS if not path.is_file()]
    where = REAL_MOLE / "dumps"
    assert missing == [], f"real Mole's dumps belong in {where} (the shared folder beside the repository)"


@pytest.mark.parametrize("dump", REAL_DUMPS, ids=lambda path: path.stem)
def test_a_real_mole_dump_loads_every_row_and_leaves_extension_objects_out(project, dump):
    backend = backend_of(project)
    # The extensions' configuration tables keep the rows the extensions ship with; the dump's are empty.
    expected = {table: rows for table, rows in copied_rows(dump).items()
                if table != "public.spatial_ref_sys" and table.split(".")[0] not in EXTENSION_SCHEMAS}
    with backend.admin.scratch_database("real") as scratch:
        report = load_dump(backend, detect(dump), scratch)
        tables = list(expected)
        counts = project.sql(
            " UNION ALL ".join(f"SELECT '{table}', count(*) FROM {table}" for table in tables), scratch
        )
        connection = project.server.connect(scratch)
        try:
            with connection.cursor() as cursor:
                schema = read_schema(cursor, "public")
        finally:
            connection.close()
        extensions = {name for (name,) in project.sql("SELECT extname FROM pg_extension", scratch)}
    assert dict(counts) == expected
    assert expected["public.data_collection_pose"] == 10800
    assert set(MOLE_EXTENSIONS) <= extensions
    assert "spatial_ref_sys" not in schema.tables
    assert "data_collection_pose" in schema.tables
    assert schema.tables["data_collection_pose"].columns["point"].type.text == "geometry(Point,4326)"
    # Empty extension configuration tables are left out rather than written as the load role.
    assert report.skipped.get("empty data of an extension's configuration table", 0) >= 7


def test_every_database_the_tooling_creates_has_moles_extensions(project):
    project.invoke("migrate", check=True)
    extensions = {name for (name,) in project.sql("SELECT extname FROM pg_extension")}
    assert set(MOLE_EXTENSIONS) <= extensions
    connection = project.server.connect(project.database)
    try:
        with connection.cursor() as cursor:
            tables = read_schema(cursor, "public").tables
    finally:
        connection.close()
    assert "spatial_ref_sys" not in tables and "data_collection_pose" in tables


def test_a_data_folder_of_another_major_is_refused_in_one_line(project, tmp_path):
    data_dir = tmp_path / "old-server"
    (data_dir / "pgdata").mkdir(parents=True)
    (data_dir / "pgdata" / "PG_VERSION").write_text("18\n")
    result = project.invoke("up", extra_env={"INVOKE_MOLE_DATA_DIR": str(data_dir)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds a PostgreSQL 18 cluster" in lines[0], result.stderr
    assert sorted(path.name for path in (data_dir / "pgdata").iterdir()) == ["PG_VERSION"]


# Each real dump's point. automation's 0002 changes no column (only Django's JSONField class): the
# 0010 dump's schema is that of the earliest point it can be, before it (legacy then starts from
# what the dump recorded).
REAL_POINTS = {
    "mole_real_0001": "data_collection.0001_initial",
    "mole_real_0005": "data_collection.0005_entity_event_role",
    "mole_real_0010": "data_collection.0010_create_metadata_keys_values + automation.0001_initial",
}


def test_diff_names_a_real_mole_dumps_point_and_its_django_drift(project):
    # One dump here; the legacy test below checks the point of each.
    dump = REAL_DUMPS[1]
    point = REAL_POINTS[dump.stem]
    result = project.invoke("diff", "--db", str(dump))
    assert result.returncode == 1, result.stderr  # it differs from today's reference: its keys are serial
    lineage = result.stdout.splitlines()[0]
    assert lineage.startswith(f"Lineage: matches {point} made by another Django version"), lineage
    assert "Django-version drift: serial key versus identity key:" in lineage
    # The drift is counted by kind, not listed line by line; what else differs is listed.
    lines = result.stdout.splitlines()
    drift = lines[lines.index(next(line for line in lines if line.startswith("Django-version drift"))):]
    assert drift[1].startswith("  serial key versus identity key: ") and drift[1].endswith(" columns")
    assert drift[2].startswith("  spatial index name: ") and drift[2].endswith(" indexes")
    listed = [line for line in lines if line.startswith("  ") and line not in drift[1:3]]
    assert listed and not any("identity" in line or "USING gist" in line for line in listed)


def test_a_dump_without_postgis_loads_beside_the_schemas_the_tooling_made(project):
    # The scratch database has PostGIS's schemas (topology, tiger) from the server's template;
    # a dump that never mentions them (an old --clean dump, no extensions) still loads.
    source = SHARED_INPUTS / "pg10_clean_public_schema.sql"
    expected = copied_rows(source)
    backend = backend_of(project)
    with backend.admin.scratch_database("test") as scratch:
        load_dump(backend, detect(source), scratch)
        found = {table: project.sql(f"SELECT count(*) FROM {table}", database=scratch)[0][0]
                 for table in expected}
    assert found == expected and expected["public.data_collection_pose"] > 0


def test_an_old_clean_dump_of_another_schema_gets_a_draft_with_counted_review_points(project):
    """pg_dump 10 --clean of a Mole that is no point of today's history: the draft's counts run
    on its rows. A constraint on a column the draft adds (tester.user_id) has nothing to count; a
    foreign key whose sides differ in type before the draft converts them (pose.entity_id) is
    counted as text. Each once stopped the run with a psql error instead of a draft."""
    result = project.invoke("legacy", "--db", str(SHARED_INPUTS / "pg10_clean_public_schema.sql"))
    assert result.returncode == 3, result.stdout + result.stderr
    assert ("data_collection_tester has 2 rows and the new NOT NULL column user_id has no default"
            in result.stdout)
    assert "240 rows of data_collection_pose violate FOREIGN KEY (entity_id)" in result.stdout
    [draft] = (project.root / "mole/data_collection/migrations").glob("*_legacy_pg10_clean_public_schema.py")
    assert "REVIEWED = False" in draft.read_text()


@pytest.mark.parametrize("dump", REAL_DUMPS, ids=lambda path: path.stem)
def test_a_real_mole_dump_goes_through_legacy_with_its_drift_converted(project, dump):
    result = project.invoke("legacy", "--db", str(dump), "--name", "real")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Lineage: matches {REAL_POINTS[dump.stem]} made by another Django version" in result.stdout
    assert "Django-version drift: serial key versus identity key:" in result.stdout
    assert "Made by an older Django: converted" in result.stdout
    bundle = project.root / "db_backups" / "bundles" / "real"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["verification"]["ok"] and not manifest["data"]["losses"]
    # Every row the dump holds was there before migrating (the data proof then followed each one).
    before, copied = manifest["row_counts"]["before"], copied_rows(dump)
    moles = {table: count for table, count in copied.items() if table.startswith("public.data_collection_")}
    assert {table: before.get(table) for table in moles} == moles
    assert moles["public.data_collection_pose"] > 0
    converted = manifest["django_drift_converted"]
    keys = converted["serial_keys_to_identity"]
    assert any(key["table"] == "data_collection_pose" and key["column"] == "id" for key in keys)
    pose_key = next(key for key in keys if key["table"] == "data_collection_pose")
    assert pose_key["next_value"] > before["public.data_collection_pose"] - 1
    assert converted["spatial_indexes_renamed"]
    report = (bundle / "REPORT.md").read_text()
    assert "made by an older Django" in report and "data_collection_pose.id: serial key to identity" in report
    reverse = (bundle / "conversion" / "reverse.sql").read_text()
    assert "DROP IDENTITY" in reverse and "SET DEFAULT nextval(" in reverse
    if dump == REAL_DUMPS[-1]:  # the newest; the others' bundles differ only in their data (suite time)
        with OpenedSession(project, "--bundle", "real") as session:
            assert_overview_shows_the_copy(project, session, copy_database_of(project, "real"))


def assert_overview_shows_the_copy(project, session: OpenedSession, copy: str) -> None:
    """The overview `invoke open` serves names every campaign and trial of the opened copy, counts
    each trial's events, and draws one track per entity that has poses in it, from the geometry."""
    status, _, page = WebClient(session.url).get("/")
    assert status == 200, page[:500]
    campaigns = re.search(r'<table id="campaigns">.*?</table>', page, re.S)[0]
    for (campaign,) in project.sql("SELECT name FROM data_collection_campaign", copy):
        assert html.escape(campaign) in campaigns
    trials = [trial for (trial,) in project.sql("SELECT id FROM data_collection_trial ORDER BY id", copy)]
    rows = re.findall(r'<tr class="trial-row" data-trial="(\d+)">(.*?)</tr>', page, re.S)
    assert trials and [int(trial) for trial, _ in rows] == trials
    sections = dict(re.findall(r'<section class="trial" id="trial-(\d+)">(.*?)</section>', page, re.S))
    drawn = 0
    for trial, row in rows:
        events = project.sql(
            "SELECT count(*) FROM data_collection_event WHERE trial_id = %s", copy, (int(trial),))
        shown = sum(int(count) for count in re.findall(r": (\d+)", html.unescape(row)))
        assert shown == events[0][0]
        tracks = project.sql(
            "SELECT entity_id, count(*) FROM data_collection_pose WHERE trial_id = %s AND point IS NOT NULL "
            "GROUP BY entity_id ORDER BY entity_id", copy, (int(trial),))
        lines = re.findall(r'<polyline class="track" data-entity="([^"]+)"[^>]*points="([^"]+)"',
                           html.unescape(sections.get(trial, "")))
        assert sorted(name for name, _ in lines) == [name for name, _ in tracks]
        for (name, poses), (_, points) in zip(tracks, sorted(lines)):
            assert 2 <= len(points.split()) <= poses
        drawn += len(lines)
    assert drawn > 0


def test_the_drift_conversion_is_undone_by_its_reverse(project):
    backend = backend_of(project)
    dump = REAL_DUMPS[1]
    with backend.admin.scratch_database("drift") as scratch:
        load_dump(backend, detect(dump), scratch)
        original = schema_snapshot(backend, scratch)
        settings = settings_with(backend="local", database=project.database,
                                 data_dir=str(project.server.data_dir))
        point = step_named(schema_lineage(backend, settings), REAL_POINTS[dump.stem])
        conversion = plan_conversion(backend, scratch, Schema("public", point.tables), original)
        convert_drift(backend, scratch, conversion)
        converted = schema_snapshot(backend, scratch)
        # Mole's tables are now the point itself, in structure and in names.
        assert compare(point.schema, app_tables(converted)) == []
        assert compare_names(point.schema, app_tables(converted)) == []
        backend.tools.query(f"BEGIN;\n{conversion.reverse_sql()}COMMIT;", database=scratch)
        restored = schema_snapshot(backend, scratch)
        next_pose = project.sql("SELECT nextval('data_collection_pose_id_seq')", database=scratch)[0][0]
    assert compare(original, restored) == [] and compare_names(original, restored) == []
    pose_key = next(key for key in conversion.keys if key.table == "data_collection_pose")
    assert next_pose == pose_key.next_value
