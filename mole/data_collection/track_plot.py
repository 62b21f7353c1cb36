"""Pose tracks and event timelines as SVG geometry, computed on the server.

The machines Mole runs on have no internet, so there are no map tiles: a
track is drawn on a local flat projection (metres east and north of the
tracks' centre), with a scale bar, which is faithful over a test range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

EARTH_RADIUS_M = 6_371_000.0
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
TIMELINE_LANE_PX = 16


def color_of(key: int) -> str:
    """The colour of a stable number (an event type's id, an entity's place by name)."""
    return PALETTE[key % len(PALETTE)]


@dataclass
class EntityTrack:
    """One entity's thinned track in a trial: (latitude, longitude) points in time order."""

    colour: int
    recorded: int  # poses in the database; `points` may be fewer
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class TrackLine:
    entity: str
    color: str
    points: str  # SVG polyline points, "x,y x,y ..."
    start: tuple[float, float]
    end: tuple[float, float]
    drawn: int
    recorded: int


@dataclass(frozen=True)
class TrackPlot:
    width: int
    height: int
    lines: list[TrackLine]
    scale_px: float
    scale_label: str


def plot_tracks(
    tracks: dict[str, EntityTrack],
    *,
    width: int = 520,
    height: int = 340,
    margin: int = 18,
) -> TrackPlot | None:
    """Fit every entity's track (by entity name) into one box, north up."""
    points = [point for track in tracks.values() for point in track.points]
    if not points:
        return None
    mid_lat = math.radians((min(p[0] for p in points) + max(p[0] for p in points)) / 2)
    mid_lon = (min(p[1] for p in points) + max(p[1] for p in points)) / 2

    def metres(lat: float, lon: float) -> tuple[float, float]:
        east = math.radians(lon - mid_lon) * math.cos(mid_lat) * EARTH_RADIUS_M
        north = math.radians(lat) * EARTH_RADIUS_M
        return east, north

    projected = {name: [metres(lat, lon) for lat, lon in track.points] for name, track in tracks.items()}
    xs = [x for track in projected.values() for x, _ in track]
    ys = [y for track in projected.values() for _, y in track]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    scale = min((width - 2 * margin) / span, (height - 2 * margin) / span)
    left = margin + ((width - 2 * margin) - (max(xs) - min(xs)) * scale) / 2
    top = margin + ((height - 2 * margin) - (max(ys) - min(ys)) * scale) / 2

    def to_svg(x: float, y: float) -> tuple[float, float]:
        return round(left + (x - min(xs)) * scale, 1), round(top + (max(ys) - y) * scale, 1)

    lines = []
    for name in sorted(projected):
        svg_points = [to_svg(x, y) for x, y in projected[name]]
        if not svg_points:
            continue
        lines.append(TrackLine(
            entity=name,
            color=color_of(tracks[name].colour),
            points=" ".join(f"{x},{y}" for x, y in svg_points),
            start=svg_points[0],
            end=svg_points[-1],
            drawn=len(svg_points),
            recorded=tracks[name].recorded,
        ))
    bar_metres = nice_length(span / 4)
    return TrackPlot(width, height, lines, round(bar_metres * scale, 1), format_metres(bar_metres))


def nice_length(metres: float) -> float:
    """The 1, 2 or 5 times a power of ten closest below `metres`, for a readable scale bar."""
    power = 10 ** math.floor(math.log10(max(metres, 0.01)))
    return max(step * power for step in (1, 2, 5) if step * power <= max(metres, power))


def format_metres(metres: float) -> str:
    if metres >= 1000:
        return f"{metres / 1000:g} km"
    return f"{metres:g} m"


@dataclass(frozen=True)
class TimelineMark:
    x: float
    y: float
    color: str
    title: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    lanes: list[tuple[str, float, str]]  # event type, lane y, colour
    marks: list[TimelineMark]
    start_label: str
    end_label: str


def plot_timeline(
    start: datetime,
    end: datetime,
    events: list[tuple[datetime, int, str]],
    *,
    width: int = 520,
    label_px: int = 90,
) -> Timeline | None:
    """One lane per event type, one tick per event; ticks on the same pixel are drawn once."""
    if not events:
        return None
    start = min(start, *(when for when, _, _ in events))
    end = max(end, *(when for when, _, _ in events))
    seconds = max((end - start).total_seconds(), 1.0)
    lane_of: dict[str, int] = {}
    for _, _, type_name in sorted(events, key=lambda event: event[2]):
        lane_of.setdefault(type_name, len(lane_of))
    usable = width - label_px - 10
    seen: set[tuple[str, int]] = set()
    marks = []
    for when, type_id, type_name in events:
        x = label_px + round(usable * (when - start).total_seconds() / seconds)
        if (type_name, x) in seen:
            continue
        seen.add((type_name, x))
        marks.append(TimelineMark(
            x, lane_of[type_name] * TIMELINE_LANE_PX + 4, color_of(type_id), f"{type_name} at {when:%H:%M:%S}"
        ))
    colours = {type_name: color_of(type_id) for _, type_id, type_name in events}
    lanes = [(name, lane * TIMELINE_LANE_PX + 12, colours[name]) for name, lane in lane_of.items()]
    return Timeline(
        width,
        len(lane_of) * TIMELINE_LANE_PX + 22,
        lanes,
        marks,
        f"{start:%Y-%m-%d %H:%M:%S}",
        f"{end:%H:%M:%S}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M:%S}",
    )
