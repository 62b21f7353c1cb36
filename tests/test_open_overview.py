"""The pages `invoke open` serves for an example bundle, checked over real HTTP.

They come from the real `manage.py runserver` that `invoke open` starts, against
a copy restored into the local PostgreSQL. Expected numbers are read from that
copy with SQL, never written into the test. One session serves the whole module.
"""

from __future__ import annotations

import html
import re

import pytest
from opened_session import OpenedSession
from opened_session import WebClient
from opened_session import copy_database_of


@pytest.fixture(scope="module")
def bundle_session(opened_example):
    with OpenedSession(opened_example, "--bundle", opened_example.bundle) as session:
        session.copy = copy_database_of(opened_example, "registry")
        yield session


def result_count(page: str) -> int:
    """The number of rows a Django admin changelist says it found."""
    return int(re.search(r'<p class="paginator">\s*(\d+) ', page)[1])


def trial_sections(page: str) -> dict[int, str]:
    parts = re.split(r'<section class="trial" id="trial-(\d+)">', page)[1:]
    return {int(parts[index]): parts[index + 1].split("</section>")[0] for index in range(0, len(parts), 2)}


def test_the_overview_shows_every_trial_with_its_events_and_pose_tracks(opened_example, bundle_session):
    status, _, page = WebClient(bundle_session.url).get("/")
    assert status == 200
    copy = bundle_session.copy
    banner = re.search(r'<div id="opened-banner".*?</div>', page, re.S)[0]
    assert (
        "Legacy experiment" in banner and "bundle registry" in banner and "divergent_registry.dump" in banner
    )

    trials = opened_example.sql(
        "SELECT t.id, t.id_major || '.' || t.id_minor || '.' || t.id_micro, s.name "
        "FROM data_collection_trial t JOIN data_collection_scenario s ON s.id = t.scenario_id ORDER BY t.id",
        copy,
    )
    assert trials
    rows = re.findall(r'<tr class="trial-row" data-trial="(\d+)">(.*?)</tr>', page, re.S)
    assert [int(trial_id) for trial_id, _ in rows] == [trial_id for trial_id, _, _ in trials]
    sections = trial_sections(page)
    for (trial_id, identifier, scenario), (_, row) in zip(trials, rows):
        assert identifier in row and scenario in row
        testers = opened_example.sql(
            "SELECT te.name FROM data_collection_trial_testers tt JOIN data_collection_tester te "
            f"ON te.id = tt.tester_id WHERE tt.trial_id = {trial_id} ORDER BY te.name",
            copy,
        )
        assert ", ".join(name for (name,) in testers) in row
        counts = opened_example.sql(
            "SELECT et.name, count(*) FROM data_collection_event e JOIN data_collection_eventtype et "
            f"ON et.id = e.event_type_id WHERE e.trial_id = {trial_id} GROUP BY et.name ORDER BY et.name",
            copy,
        )
        assert ", ".join(f"{name}: {count}" for name, count in counts) in html.unescape(row)

        section = sections[trial_id]
        tracks = opened_example.sql(
            "SELECT en.name, count(*) FROM data_collection_pose p JOIN data_collection_entity en "
            f"ON en.id = p.entity_id WHERE p.trial_id = {trial_id} GROUP BY en.name ORDER BY en.name",
            copy,
        )
        lines = re.findall(r'<polyline class="track" data-entity="([^"]+)"[^>]*points="([^"]+)"', section)
        assert sorted(name for name, _ in lines) == [name for name, _ in tracks]
        for (name, poses), (_, points) in zip(tracks, sorted(lines)):
            assert 2 <= len(points.split()) <= poses
            assert f"{name} ({poses} poses" in section
        ticks = section.count('<rect class="event"')
        assert 1 <= ticks <= sum(count for _, count in counts)


def test_the_overview_thins_long_tracks_and_keeps_their_ends(opened_example, bundle_session):
    """A track of 5000 poses is drawn with at most about 400 points, its first and last kept."""
    copy = bundle_session.copy
    [(trial_id, entity_id)] = opened_example.sql(
        "SELECT trial_id, entity_id FROM data_collection_pose ORDER BY trial_id, entity_id LIMIT 1", copy
    )
    extra = 5000
    opened_example.sql(
        "INSERT INTO data_collection_pose (entity_id, trial_id, timestamp, latitude, longitude) "
        f"SELECT {entity_id}, {trial_id}, timestamp '2030-01-01' + n * interval '1 second', "
        f"47.0 + n * 1e-6, 8.0 FROM generate_series(1, {extra}) AS n",
        copy,
    )
    try:
        _, _, page = WebClient(bundle_session.url).get("/")
    finally:
        opened_example.sql("DELETE FROM data_collection_pose WHERE timestamp >= '2030-01-01'", copy)
    section = trial_sections(page)[trial_id]
    [(name,)] = opened_example.sql(f"SELECT name FROM data_collection_entity WHERE id = {entity_id}", copy)
    points = re.search(rf'data-entity="{re.escape(name)}"[^>]*points="([^"]+)"', section)[1].split()
    assert 300 <= len(points) <= 402
    assert re.search(rf"{re.escape(name)} \((\d+) poses, {len(points)} drawn\)", section)
    ys = [float(point.split(",")[1]) for point in points]
    assert min(ys) == ys[-1], "the last pose (furthest north) must be drawn, at the top"


def test_the_admin_needs_the_printed_login_and_filters_and_searches(opened_example, bundle_session):
    copy = bundle_session.copy
    client = WebClient(bundle_session.url)
    _, final_url, _ = client.get("admin/data_collection/event/")
    assert "/admin/login/" in final_url
    assert not client.log_in(bundle_session.username, bundle_session.password + "x")
    assert client.log_in(bundle_session.username, bundle_session.password)

    [(trial_id, campaign_id)] = opened_example.sql(
        "SELECT id, campaign_id FROM data_collection_trial ORDER BY id LIMIT 1", copy
    )
    [(type_id, type_name)] = opened_example.sql(
        "SELECT id, name FROM data_collection_eventtype WHERE name = 'waypoint'", copy
    )
    [(entity_id,)] = opened_example.sql("SELECT min(entity_id) FROM data_collection_event_entities", copy)

    def count(query: str) -> int:
        return opened_example.sql(query, copy)[0][0]

    expected = {
        f"event/?trial__id__exact={trial_id}": count(
            f"SELECT count(*) FROM data_collection_event WHERE trial_id = {trial_id}"
        ),
        f"event/?event_type__id__exact={type_id}": count(
            f"SELECT count(*) FROM data_collection_event WHERE event_type_id = {type_id}"
        ),
        f"event/?trial__campaign__id__exact={campaign_id}": count(
            "SELECT count(*) FROM data_collection_event e JOIN data_collection_trial t ON t.id = e.trial_id "
            f"WHERE t.campaign_id = {campaign_id}"
        ),
        f"event/?entities__id__exact={entity_id}": count(
            f"SELECT count(*) FROM data_collection_event_entities WHERE entity_id = {entity_id}"
        ),
        f"event/?q={type_name}": count(
            f"SELECT count(*) FROM data_collection_event WHERE event_type_id = {type_id}"
        ),
        f"pose/?entity__id__exact={entity_id}&trial__id__exact={trial_id}": count(
            "SELECT count(*) FROM data_collection_pose "
            f"WHERE entity_id = {entity_id} AND trial_id = {trial_id}"
        ),
        f"trial/?campaign__id__exact={campaign_id}": count(
            f"SELECT count(*) FROM data_collection_trial WHERE campaign_id = {campaign_id}"
        ),
        "entity/?q=rover-1": count("SELECT count(*) FROM data_collection_entity WHERE name = 'rover-1'"),
    }
    assert len(set(expected.values())) > 1, "the filters must not all give the same number"
    for path, rows in expected.items():
        status, _, page = client.get(f"admin/data_collection/{path}")
        assert status == 200, path
        assert result_count(page) == rows, path

    status, _, page = client.get(f"admin/data_collection/trial/{trial_id}/change/")
    assert status == 200 and "opened-banner" in page
    assert 'name="_save"' not in page, "the throw-away login may only view"


def test_the_live_database_is_not_what_is_served(opened_example, bundle_session):
    """A record only the live database has is not shown; one only the copy has is."""
    assert bundle_session.copy != opened_example.database
    client = WebClient(bundle_session.url)
    assert client.log_in(bundle_session.username, bundle_session.password)
    insert = "INSERT INTO data_collection_eventtype (name, description) VALUES ('{}', '')"
    opened_example.sql(insert.format("only-in-live"))
    opened_example.sql(insert.format("only-in-copy"), bundle_session.copy)
    try:
        _, _, page = client.get("admin/data_collection/eventtype/")
    finally:
        opened_example.sql("DELETE FROM data_collection_eventtype WHERE name = 'only-in-live'")
        opened_example.sql(
            "DELETE FROM data_collection_eventtype WHERE name = 'only-in-copy'", bundle_session.copy
        )
    assert "only-in-copy" in page and "only-in-live" not in page
