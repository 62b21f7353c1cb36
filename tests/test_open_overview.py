"""The pages `invoke open` serves for a legacy bundle of the sample field test, checked over real HTTP.

They come from the real `manage.py runserver` that `invoke open` starts, against
a copy restored into the local PostgreSQL. Expected numbers are read from that
copy with SQL, never written into the test. One session serves the whole module.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import urllib.parse

import pytest
from opened_session import OpenedSession
from opened_session import WebClient
from opened_session import copy_database_of

# A tester as the overview names one: the user's full name (or username) and the role.
TESTER_LABEL = (
    "COALESCE(NULLIF(TRIM(u.first_name || ' ' || u.last_name), ''), u.username) || ' (' || r.name || ')'"
)


@pytest.fixture(scope="module")
def bundle_session(opened_example):
    with OpenedSession(opened_example, "--bundle", opened_example.bundle) as session:
        session.copy = copy_database_of(opened_example, opened_example.bundle)
        yield session


def result_count(page: str) -> int:
    """The number of rows a Django admin changelist says it found."""
    return int(re.search(r'<p class="paginator">\s*(\d+) ', page)[1])


def trial_sections(page: str) -> dict[int, str]:
    parts = re.split(r'<section class="trial" id="trial-(\d+)">', page)[1:]
    return {int(parts[index]): parts[index + 1].split("</section>")[0] for index in range(0, len(parts), 2)}


def test_the_overview_shows_every_trial_with_testers_events_notes_and_pose_tracks(
    opened_example, bundle_session
):
    status, _, page = WebClient(bundle_session.url).get("/")
    assert status == 200
    copy = bundle_session.copy

    def sql(query: str, params: tuple = ()):
        return opened_example.sql(query, copy, params)

    banner = re.search(r'<div id="opened-banner".*?</div>', page, re.S)[0]
    assert "Legacy experiment" in banner and f"bundle {opened_example.bundle}" in banner
    assert opened_example.legacy_dump.name in banner

    for (campaign,) in sql("SELECT name FROM data_collection_campaign"):
        assert html.escape(campaign) in re.search(r'<table id="campaigns">.*?</table>', page, re.S)[0]
    trials = sql(
        "SELECT t.id, t.id_major || '.' || t.id_minor || '.' || t.id_micro, s.name, sc.name "
        "FROM data_collection_trial t JOIN data_collection_scenario s ON s.id = t.scenario_id "
        "JOIN data_collection_systemconfiguration sc ON sc.id = t.system_configuration_id ORDER BY t.id"
    )
    assert len(trials) >= 2
    rows = re.findall(r'<tr class="trial-row" data-trial="(\d+)">(.*?)</tr>', page, re.S)
    assert [int(trial_id) for trial_id, _ in rows] == [trial_id for trial_id, *_ in trials]
    sections = trial_sections(page)
    for (trial_id, identifier, scenario, configuration), (_, row) in zip(trials, rows):
        row = html.unescape(row)
        assert identifier in row and scenario in row and configuration in row
        testers = sql(
            f"SELECT {TESTER_LABEL} FROM data_collection_trial_testers tt "
            "JOIN data_collection_tester te ON te.id = tt.tester_id JOIN auth_user u ON u.id = te.user_id "
            "JOIN data_collection_role r ON r.id = te.role_id WHERE tt.trial_id = %s",
            (trial_id,),
        )
        assert testers and ", ".join(sorted(label for (label,) in testers)) in row
        counts = sql(
            "SELECT et.name, count(*) FROM data_collection_event e JOIN data_collection_eventtype et "
            "ON et.id = e.event_type_id WHERE e.trial_id = %s GROUP BY et.name ORDER BY et.name",
            (trial_id,),
        )
        assert len(counts) >= 3 and ", ".join(f"{name}: {count}" for name, count in counts) in row

        section = html.unescape(sections[trial_id])
        tracks = sql(
            "SELECT entity_id, count(*) FROM data_collection_pose WHERE trial_id = %s "
            "GROUP BY entity_id ORDER BY entity_id",
            (trial_id,),
        )
        lines = re.findall(r'<polyline class="track" data-entity="([^"]+)"[^>]*points="([^"]+)"', section)
        assert len(tracks) >= 3 and sorted(name for name, _ in lines) == [name for name, _ in tracks]
        for (name, poses), (_, points) in zip(tracks, sorted(lines)):
            assert 2 <= len(points.split()) <= poses
            assert f"{name} ({poses} poses" in section
        ticks = section.count('<rect class="event"')
        assert 1 <= ticks <= sum(count for _, count in counts)

        notes = sql(
            f"SELECT n.note, {TESTER_LABEL} FROM data_collection_note n "
            "JOIN data_collection_event e ON e.id = n.event_id "
            "JOIN data_collection_tester te ON te.id = n.tester_id "
            "JOIN auth_user u ON u.id = te.user_id JOIN data_collection_role r ON r.id = te.role_id "
            "WHERE e.trial_id = %s",
            (trial_id,),
        )
        assert notes and f"All {len(notes)} notes of this trial" in section
        notes_table = re.search(r'<table class="notes">.*?</table>', section, re.S)[0]
        note_row = r"<tr><td>[\d:]+</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td></tr>"
        listed = re.findall(note_row, notes_table)
        assert listed and all((text, tester) in notes for tester, text in listed)


def test_the_overview_thins_long_tracks_and_keeps_their_ends(opened_example, bundle_session):
    """A track of 5000 poses is drawn with at most about 400 points, its first and last kept."""
    copy = bundle_session.copy
    [(trial_id, entity, source, north, east)] = opened_example.sql(
        "SELECT trial_id, entity_id, min(pose_source_id), max(ST_Y(point)), min(ST_X(point)) "
        "FROM data_collection_pose GROUP BY trial_id, entity_id ORDER BY trial_id, entity_id LIMIT 1",
        copy,
    )
    opened_example.sql(
        "INSERT INTO data_collection_pose (entity_id, trial_id, pose_source_id, timestamp, point, velocity) "
        "SELECT %s, %s, %s, timestamp '2030-01-01' + n * interval '1 second', "
        "ST_SetSRID(ST_MakePoint(%s, %s + n * 1e-6), 4326), '{}' FROM generate_series(1, 5000) AS n",
        copy,
        (entity, trial_id, source, east, north),
    )
    try:
        _, _, page = WebClient(bundle_session.url).get("/")
    finally:
        opened_example.sql("DELETE FROM data_collection_pose WHERE timestamp >= '2030-01-01'", copy)
    section = trial_sections(page)[trial_id]
    points = re.search(rf'data-entity="{re.escape(entity)}"[^>]*points="([^"]+)"', section)[1].split()
    assert 300 <= len(points) <= 402
    assert re.search(rf"{re.escape(entity)} \((\d+) poses, {len(points)} drawn\)", section)
    ys = [float(point.split(",")[1]) for point in points]
    assert min(ys) == ys[-1], "the last pose (furthest north) must be drawn, at the top"


def test_the_admin_needs_the_printed_login_and_filters_and_searches(opened_example, bundle_session):
    copy = bundle_session.copy
    client = WebClient(bundle_session.url)
    _, final_url, _ = client.get("admin/data_collection/event/")
    assert "/admin/login/" in final_url
    assert not client.log_in(bundle_session.username, bundle_session.password + "x")
    assert client.log_in(bundle_session.username, bundle_session.password)

    def count(query: str, params: tuple = ()) -> int:
        return opened_example.sql(query, copy, params)[0][0]

    [(trial_id, campaign_id)] = opened_example.sql(
        "SELECT id, campaign_id FROM data_collection_trial ORDER BY id LIMIT 1", copy
    )
    # The event type with the most events, and the entity in the fewest: filters that narrow.
    [(type_id, type_name)] = opened_example.sql(
        "SELECT et.id, et.name FROM data_collection_eventtype et JOIN data_collection_event e "
        "ON e.event_type_id = et.id GROUP BY et.id ORDER BY count(*) DESC, et.id LIMIT 1",
        copy,
    )
    [(entity,)] = opened_example.sql(
        "SELECT entity_id FROM data_collection_entityeventrelation GROUP BY entity_id "
        "ORDER BY count(*), entity_id LIMIT 1",
        copy,
    )
    [(tester_id,)] = opened_example.sql("SELECT min(tester_id) FROM data_collection_note", copy)
    # The admin's search ANDs its words, each found (case aside) in the type's name or the metadata's text.
    words = type_name.split()
    found = "strpos(upper({}), upper(%s)) > 0"
    searched = " AND ".join(
        f"({found.format('et.name')} OR {found.format('e.metadata::text')})" for _ in words
    )

    expected = {
        f"event/?trial__id__exact={trial_id}": count(
            "SELECT count(*) FROM data_collection_event WHERE trial_id = %s", (trial_id,)
        ),
        f"event/?event_type__id__exact={type_id}": count(
            "SELECT count(*) FROM data_collection_event WHERE event_type_id = %s", (type_id,)
        ),
        f"event/?trial__campaign__id__exact={campaign_id}": count(
            "SELECT count(*) FROM data_collection_event e JOIN data_collection_trial t ON t.id = e.trial_id "
            "WHERE t.campaign_id = %s",
            (campaign_id,),
        ),
        f"event/?entities__name__exact={urllib.parse.quote(entity)}": count(
            "SELECT count(DISTINCT event_id) FROM data_collection_entityeventrelation WHERE entity_id = %s",
            (entity,),
        ),
        f"event/?q={urllib.parse.quote(type_name)}": count(
            "SELECT count(*) FROM data_collection_event e JOIN data_collection_eventtype et "
            f"ON et.id = e.event_type_id WHERE {searched}",
            tuple(word for word in words for _ in range(2)),
        ),
        f"pose/?entity__name__exact={urllib.parse.quote(entity)}&trial__id__exact={trial_id}": count(
            "SELECT count(*) FROM data_collection_pose WHERE entity_id = %s AND trial_id = %s",
            (entity, trial_id),
        ),
        f"trial/?campaign__id__exact={campaign_id}": count(
            "SELECT count(*) FROM data_collection_trial WHERE campaign_id = %s", (campaign_id,)
        ),
        f"note/?tester__id__exact={tester_id}": count(
            "SELECT count(*) FROM data_collection_note WHERE tester_id = %s", (tester_id,)
        ),
        f"entity/?q={urllib.parse.quote(entity)}": count(
            "SELECT count(*) FROM data_collection_entity WHERE strpos(upper(name), upper(%s)) > 0 "
            "OR strpos(upper(display_name), upper(%s)) > 0 OR strpos(upper(physical_id), upper(%s)) > 0",
            (entity,) * 3,
        ),
    }
    assert len(set(expected.values())) > 2, "the filters must not all give the same number"
    for path, rows in expected.items():
        status, _, page = client.get(f"admin/data_collection/{path}")
        assert status == 200, path
        assert result_count(page) == rows, path

    status, _, page = client.get(f"admin/data_collection/trial/{trial_id}/change/")
    assert status == 200 and "opened-banner" in page
    assert 'name="_save"' not in page, "the throw-away login may only view"
    status, _, page = client.get(f"admin/data_collection/entity/{urllib.parse.quote(entity)}/change/")
    assert status == 200 and entity in page


def test_the_live_database_is_not_what_is_served(opened_example, bundle_session):
    """A record only the live database has is not shown; one only the copy has is."""
    assert bundle_session.copy != opened_example.database
    client = WebClient(bundle_session.url)
    assert client.log_in(bundle_session.username, bundle_session.password)
    insert = "INSERT INTO data_collection_pointstyle (name, use_marker_pin) VALUES (%s, true)"
    opened_example.sql(insert, params=("only-in-live",))
    opened_example.sql(insert, bundle_session.copy, ("only-in-copy",))
    try:
        _, _, page = client.get("admin/data_collection/pointstyle/")
    finally:
        delete = "DELETE FROM data_collection_pointstyle WHERE name LIKE 'only-in-%'"
        opened_example.sql(delete)
        opened_example.sql(delete, bundle_session.copy)
    assert "only-in-copy" in page and "only-in-live" not in page


# Counts the overview's queries with every trial, then with the first trial alone (the rest deleted).
OVERVIEW_QUERIES = """
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from data_collection.models import Trial


def overview_queries():
    with CaptureQueriesContext(connection) as queries:
        response = Client(SERVER_NAME="localhost").get("/")
    assert response.status_code == 200, response.status_code
    return len(queries.captured_queries)


every_trial = overview_queries()
Trial.objects.exclude(pk=Trial.objects.order_by("pk")[0].pk).delete()
print(Trial.objects.count(), overview_queries(), every_trial)
"""


def test_the_overview_makes_as_many_queries_for_every_trial_as_for_one(migrated):
    """Trials, testers, events, notes and poses are read per page, never per trial or per record."""
    [(trials,)] = migrated.sql("SELECT count(*) FROM data_collection_trial")
    assert trials >= 2
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", OVERVIEW_QUERIES],
        cwd=migrated.root / "mole",
        env={**migrated.env, **migrated.server.environment, "PGDATABASE": migrated.database},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    left, one_trial, every_trial = map(int, result.stdout.split()[-3:])
    assert left == 1 and one_trial == every_trial
