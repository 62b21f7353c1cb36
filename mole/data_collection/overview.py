"""What the experiment overview shows, read with a fixed number of queries per page, whatever
the number of trials, events, notes or poses on it."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from django.db import connection
from django.db.models import Count
from django.db.models import Prefetch
from django.db.models import QuerySet

from . import models
from .track_plot import EntityTrack
from .track_plot import Timeline
from .track_plot import TrackPlot
from .track_plot import plot_timeline
from .track_plot import plot_tracks
from .track_query import POINTS_PER_TRACK
from .track_query import THINNED_TRACKS_SQL

EVENTS_LISTED = 8
NOTES_LISTED = 5


@dataclass(frozen=True)
class NoteLine:
    when: datetime
    event_type: str
    tester: str
    text: str


@dataclass
class TrialOverview:
    trial: models.Trial
    testers: list[str]
    event_counts: list[tuple[str, int]] = field(default_factory=list)
    events_total: int = 0
    first_events: list[tuple[int, datetime, str]] = field(default_factory=list)
    notes: list[NoteLine] = field(default_factory=list)
    notes_total: int = 0
    timeline: Timeline | None = None
    tracks: TrackPlot | None = None

    @property
    def events_not_listed(self) -> int:
        return self.events_total - len(self.first_events)

    @property
    def notes_not_listed(self) -> int:
        return self.notes_total - len(self.notes)


def tester_label(tester: models.Tester) -> str:
    """A tester is a user in a role: "Mara Halvorsen (Test Director)", the username if no name."""
    return f"{tester.user.get_full_name() or tester.user.get_username()} ({tester.role.name})"


def trials_in_order() -> QuerySet:
    testers = models.Tester.objects.select_related("user", "role")
    return (
        models.Trial.objects.select_related("campaign", "scenario", "system_configuration")
        .prefetch_related(Prefetch("testers", queryset=testers))
        .order_by(
            "campaign__start_datetime", "campaign__name", "campaign_id",
            "id_major", "id_minor", "id_micro", "id",
        )
    )


def campaign_summaries() -> QuerySet:
    return (
        models.Campaign.objects.select_related("location")
        .annotate(trial_count=Count("trials"))
        .order_by("start_datetime", "name", "id")
    )


def trial_overviews(trials: list[models.Trial]) -> list[TrialOverview]:
    overviews = {
        trial.pk: TrialOverview(trial, sorted(tester_label(tester) for tester in trial.testers.all()))
        for trial in trials
    }
    if not overviews:
        return []
    add_event_counts(overviews)
    add_timelines(overviews)
    add_notes(overviews)
    add_tracks(overviews)
    return list(overviews.values())


def add_event_counts(overviews: dict[int, TrialOverview]) -> None:
    counts = (
        models.Event.objects.filter(trial_id__in=overviews)
        .values("trial_id", "event_type__name")
        .annotate(count=Count("id"))
        .order_by("event_type__name")
    )
    for row in counts:
        overview = overviews[row["trial_id"]]
        overview.event_counts.append((row["event_type__name"], row["count"]))
        overview.events_total += row["count"]


def add_timelines(overviews: dict[int, TrialOverview]) -> None:
    events = defaultdict(list)
    rows = (
        models.Event.objects.filter(trial_id__in=overviews)
        .order_by("start_datetime", "id")
        .values_list("trial_id", "id", "start_datetime", "event_type_id", "event_type__name")
    )
    for trial_id, event_id, when, type_id, type_name in rows.iterator():
        events[trial_id].append((when, type_id, type_name))
        overview = overviews[trial_id]
        if len(overview.first_events) < EVENTS_LISTED:
            overview.first_events.append((event_id, when, type_name))
    for trial_id, trial_events in events.items():
        trial = overviews[trial_id].trial
        end = trial.end_datetime or trial_events[-1][0]
        overviews[trial_id].timeline = plot_timeline(trial.start_datetime, end, trial_events)


def add_notes(overviews: dict[int, TrialOverview]) -> None:
    """Notes belong to events, events to trials: a trial's notes are its events' notes, in time order."""
    notes = (
        models.Note.objects.filter(event__trial_id__in=overviews)
        .select_related("event__event_type", "tester__user", "tester__role")
        .order_by("event__start_datetime", "id")
    )
    for note in notes.iterator():
        overview = overviews[note.event.trial_id]
        overview.notes_total += 1
        if len(overview.notes) < NOTES_LISTED:
            event = note.event
            overview.notes.append(
                NoteLine(event.start_datetime, event.event_type.name, tester_label(note.tester), note.note)
            )


def add_tracks(overviews: dict[int, TrialOverview]) -> None:
    tracks: dict[int, dict[str, EntityTrack]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(THINNED_TRACKS_SQL, {"trials": list(overviews), "points": POINTS_PER_TRACK})
        for trial_id, entity, colour, latitude, longitude, total in cursor:
            track = tracks[trial_id].setdefault(entity, EntityTrack(colour, total))
            track.points.append((latitude, longitude))
    for trial_id, trial_tracks in tracks.items():
        overviews[trial_id].tracks = plot_tracks(trial_tracks)
