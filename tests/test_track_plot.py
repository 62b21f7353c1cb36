"""The overview's drawings: tracks keep north up, true proportions and an honest scale bar."""

from __future__ import annotations

import math
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from data_collection.track_plot import EARTH_RADIUS_M
from data_collection.track_plot import EntityTrack
from data_collection.track_plot import nice_length
from data_collection.track_plot import plot_timeline
from data_collection.track_plot import plot_tracks

LATITUDE = 47.0
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


def points_of(line) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in line.points.split()]


def test_a_track_north_then_east_is_drawn_up_then_right_at_true_scale():
    north = 400 / METRES_PER_DEGREE
    east = 400 / (METRES_PER_DEGREE * math.cos(math.radians(LATITUDE + north / 2)))
    track = [(LATITUDE, 8.0), (LATITUDE + north, 8.0), (LATITUDE + north, 8.0 + east)]
    plot = plot_tracks({"rover_1": EntityTrack(colour=0, recorded=3, points=track)})
    (x0, y0), (x1, y1), (x2, y2) = points_of(plot.lines[0])
    assert x1 == x0 and y1 < y0, "north is up"
    assert y2 == y1 and x2 > x1, "east is right"
    assert math.isclose(y0 - y1, x2 - x1, rel_tol=0.01), "400 m north and 400 m east are drawn alike"
    metres_per_px = 400 / (y0 - y1)
    assert plot.scale_label == "100 m"
    assert math.isclose(plot.scale_px * metres_per_px, 100, rel_tol=0.01)


def test_every_entity_gets_its_own_line_and_colour_and_the_fit_stays_inside_the_box():
    loop = [(LATITUDE + 0.001 * math.sin(a / 10), 8 + 0.002 * math.cos(a / 10)) for a in range(63)]
    tracks = {
        "rover_2": EntityTrack(colour=1, recorded=2, points=[(LATITUDE, 8.0), (LATITUDE + 0.0005, 8.0005)]),
        "quad_1": EntityTrack(colour=0, recorded=6300, points=loop),
    }
    plot = plot_tracks(tracks)
    assert [line.entity for line in plot.lines] == ["quad_1", "rover_2"], "by entity name"
    assert plot.lines[0].color != plot.lines[1].color
    assert plot.lines[0].recorded == 6300 and plot.lines[0].drawn == 63
    for line in plot.lines:
        for x, y in points_of(line):
            assert 0 <= x <= plot.width and 0 <= y <= plot.height
    assert plot_tracks({}) is None


def test_scale_bars_use_round_lengths():
    assert [nice_length(metres) for metres in (0.7, 3, 37, 180, 999, 4200)] == [0.5, 2, 20, 100, 500, 2000]


def test_the_timeline_has_a_lane_per_type_and_one_tick_per_pixel():
    start = datetime(2024, 5, 14, 9, tzinfo=timezone.utc)
    events = [(start + timedelta(seconds=second), 7, "waypoint") for second in range(0, 3600, 1)]
    events += [(start, 3, "start"), (start + timedelta(hours=2), 4, "stop")]
    timeline = plot_timeline(start, start + timedelta(hours=1), events)
    assert [lane[0] for lane in timeline.lanes] == ["start", "stop", "waypoint"]
    waypoint_ticks = [mark for mark in timeline.marks if mark.title.startswith("waypoint")]
    assert 100 < len(waypoint_ticks) < 3600, "ticks on the same pixel are drawn once"
    stop = next(mark for mark in timeline.marks if mark.title.startswith("stop"))
    assert stop.x == max(mark.x for mark in timeline.marks), "an event after the trial's end widens the axis"
    assert timeline.end_label == "11:00:00"
    assert plot_timeline(start, start, []) is None
