"""A small, deterministic field test at a test range, so a new database has something to look at.

Shaped like a real Mole field test (one location, a campaign, scenarios, trials, robots with GPS
tracks, typed events with JSON metadata, notes by testers), with our own invented values. Every
value, timestamps included, is the same on every load, so dumps of it compare byte for byte.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F

from data_collection import models

CAMPAIGN_NAME = "Sandhill sample campaign"
CAMPAIGN_START = datetime(2024, 5, 14, 15, 0, tzinfo=timezone.utc)
RANGE_CENTRE = (-116.5850, 35.2950)  # longitude, latitude: an invented desert test range
POSE_INTERVAL = timedelta(seconds=15)
POSES_PER_TRACK = 40
EARTH_RADIUS_M = 6_371_000.0

# Event levels as Mole numbers them: key, visibility.
LEVELS = {"Debug": ("1", 1), "Info": ("2", 2), "Warn": ("3", 3), "Critical": ("4", 4)}
# Event type: level, has_duration, is_manual, the metadata keys shown first.
EVENT_TYPES = {
    "Trial Start": ("Info", False, False, []),
    "Trial End": ("Info", False, False, []),
    "Node Online": ("Debug", False, False, ["node"]),
    "Waypoint Reached": ("Info", False, False, ["waypoint"]),
    "Detection": ("Info", False, True, ["object", "confidence"]),
    "Operator Takeover": ("Warn", True, True, ["reason"]),
    "Safety Stop": ("Critical", True, True, ["reason"]),
}
ROLES = ("Test Director", "Data Collector", "Safety Officer", "Robot Operator")
# Username, first and last name, roles (a user with two roles is two testers, as in Mole).
USERS = (
    ("mhalvorsen", "Mara", "Halvorsen", ("Test Director",)),
    ("tokafor", "Tobi", "Okafor", ("Data Collector", "Safety Officer")),
    ("lvance", "Lena", "Vance", ("Robot Operator",)),
    ("rquiroga", "Rafa", "Quiroga", ("Data Collector",)),
)


@dataclass(frozen=True)
class Robot:
    name: str
    display_name: str
    entity_type: str
    physical_id: str
    # Its course: a loop of this radius (metres) around this offset from the range centre, at this height.
    radius_m: float
    offset_m: tuple[float, float]
    height_m: float


ROBOTS = (
    Robot("rover_1", "Rover 1", "ugv", "RV-0417", 120.0, (-60.0, 0.0), 0.5),
    Robot("rover_2", "Rover 2", "ugv", "RV-0422", 80.0, (90.0, -40.0), 0.5),
    Robot("quad_1", "Quad 1", "uav", "QD-1108", 200.0, (0.0, 60.0), 45.0),
)
# Scenario: description, how far north of the range centre (metres) its courses lie.
SCENARIOS = {
    "North loop": ("Both rovers loop the north road; the quad overwatches.", 0.0),
    "Ridge survey": ("Rovers drive the ridge road; the quad surveys the slope.", 300.0),
}
# Trial id (major, minor, micro), scenario, minutes after the campaign's start.
TRIALS = (((1, 1, 1), "North loop", 0), ((1, 1, 2), "North loop", 45), ((1, 2, 1), "Ridge survey", 24 * 60))


class Command(BaseCommand):
    help = "Load a small sample field test (idempotent: does nothing if it is already there)."

    @transaction.atomic
    def handle(self, *args, **options):
        if models.Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
            self.stdout.write("Sample data already present.")
            return
        field_test = FieldTest()
        poses = sum(field_test.add_trial(*trial) for trial in TRIALS)
        self.stdout.write(
            f"Loaded {CAMPAIGN_NAME}: {len(TRIALS)} trials, {len(ROBOTS)} robots, {poses} poses."
        )


class FieldTest:
    """The records every trial shares; `add_trial` adds one trial with its poses, events and notes."""

    def __init__(self) -> None:
        lon, lat = RANGE_CENTRE
        self.location = models.Location.objects.create(
            name="Sandhill Test Range",
            description="Invented desert range: gravel roads, a ridge to the north.",
            point=Point(lon, lat, srid=4326),
            timezone="America/Los_Angeles",
        )
        self.campaign = models.Campaign.objects.create(
            name=CAMPAIGN_NAME,
            description="Sample data: two UGVs and a UAV on a route-following test.",
            location=self.location,
            start_datetime=CAMPAIGN_START,
            end_datetime=CAMPAIGN_START + timedelta(days=2),
            trial_id_major_name="Day",
            trial_id_minor_name="Run",
            trial_id_micro_name="Attempt",
        )
        method = models.TestMethod.objects.create(
            name="Route following", description="Drive a surveyed route, report waypoints and detections.",
            version_major=1, version_minor=2, version_micro=0,
        )
        self.scenarios = {
            name: models.Scenario.objects.create(
                name=name, description=description, test_method=method, location=self.location,
                time_limit=timedelta(minutes=15),
            )
            for name, (description, _) in SCENARIOS.items()
        }
        performer = models.Performer.objects.create(name="Field robotics lab")
        capability = models.CapabilityUnderTest.objects.create(
            name="Waypoint navigation", performer=performer
        )
        self.configuration = models.SystemConfiguration.objects.create(name="Autonomy stack 2.1")
        self.configuration.capabilities_under_test.add(capability)
        self.weather = models.Weather.objects.create(name="Clear", description="No clouds.", current=True)
        self.condition = models.TestCondition.objects.create(weather=self.weather)
        self.pose_source = models.PoseSource.objects.create(name="GPS", description="RTK GPS on board")
        self.testers = self.add_testers()
        self.entities = self.add_entities()
        self.event_types = self.add_event_types()
        self.subject = models.EntityEventRole.objects.create(
            name="Subject", description="The entity the event is about."
        )

    def add_testers(self) -> dict[tuple[str, str], models.Tester]:
        """Testers by (username, role)."""
        roles = {name: models.Role.objects.create(name=name) for name in ROLES}
        testers = {}
        for username, first, last, user_roles in USERS:
            # "!" is an unusable password that, unlike set_unusable_password(), is the same every load.
            user = get_user_model().objects.create(
                username=username, first_name=first, last_name=last, password="!", date_joined=CAMPAIGN_START
            )
            models.UserProfile.objects.create(user=user, current_role=roles[user_roles[0]])
            for role in user_roles:
                testers[username, role] = models.Tester.objects.create(user=user, role=roles[role])
        return testers

    def add_entities(self) -> list[models.Entity]:
        types = {
            name: models.EntityType.objects.create(
                name=name, display_name=name.upper(), description=description
            )
            for name, description in (("ugv", "Ground robot"), ("uav", "Quadrotor"))
        }
        return [
            models.Entity.objects.create(
                name=robot.name, display_name=robot.display_name, physical_id=robot.physical_id,
                entity_type=types[robot.entity_type],
            )
            for robot in ROBOTS
        ]

    def add_event_types(self) -> dict[str, models.EventType]:
        levels = {
            name: models.EventLevel.objects.create(name=name, key=key, visibility=visibility)
            for name, (key, visibility) in LEVELS.items()
        }
        return {
            name: models.EventType.objects.create(
                name=name, event_level=levels[level], has_duration=has_duration, is_manual=is_manual,
                priority_metadata=priority, ends_segment=name == "Trial End",
            )
            for name, (level, has_duration, is_manual, priority) in EVENT_TYPES.items()
        }

    def add_trial(self, identifier: tuple[int, int, int], scenario: str, minutes: int) -> int:
        """One trial of every robot; returns how many poses it recorded."""
        start = CAMPAIGN_START + timedelta(minutes=minutes)
        end = start + POSE_INTERVAL * (POSES_PER_TRACK - 1)
        major, minor, micro = identifier
        trial = models.Trial.objects.create(
            campaign=self.campaign, id_major=major, id_minor=minor, id_micro=micro,
            start_datetime=start, end_datetime=end, scenario=self.scenarios[scenario],
            system_configuration=self.configuration, test_condition=self.condition,
            bagfile=f"/data/bags/{start:%Y%m%d_%H%M%S}_trial_{major}_{minor}_{micro}.bag",
            current=identifier == TRIALS[-1][0],
        )
        trial.testers.set(self.testers.values())
        trial.entities.set(self.entities)
        # Each trial starts its robots at another point of their loops, so the trials' tracks differ.
        phase = 2 * math.pi * (major * 3 + minor * 2 + micro) / 11
        tracks = {
            entity.name: models.Pose.objects.bulk_create(
                track_poses(robot, entity, trial, self.pose_source, phase, SCENARIOS[scenario][1])
            )
            for robot, entity in zip(ROBOTS, self.entities)
        }
        self.add_events(trial, tracks)
        return sum(len(track) for track in tracks.values())

    def add_events(self, trial: models.Trial, tracks: dict[str, list[models.Pose]]) -> None:
        """Events of several types and levels, each with its metadata, entity and notes."""
        planned = [PlannedEvent("Trial Start", trial.start_datetime, metadata={"trial": trial.identifier})]
        planned += [
            PlannedEvent("Node Online", track[0].timestamp, track[0], {"node": f"{name}/autonomy"})
            for name, track in tracks.items()
        ]
        for waypoint, step in enumerate((10, 20, 30), start=1):
            for name in ("rover_1", "rover_2"):
                pose = tracks[name][step + (name == "rover_2")]
                planned.append(PlannedEvent("Waypoint Reached", pose.timestamp, pose, {"waypoint": waypoint}))
        seen = tracks["quad_1"][16 + trial.id_micro]
        confidence = round(0.7 + 0.08 * trial.id_micro, 2)
        planned.append(PlannedEvent(
            "Detection", seen.timestamp, seen, {"object": "vehicle", "confidence": confidence},
            note=("rquiroga", "Data Collector", "Confirmed visually from the tower."),
        ))
        if trial.id_micro == 2:
            stop = tracks["rover_2"][24]
            planned.append(PlannedEvent(
                "Safety Stop", stop.timestamp, stop, {"reason": "e-stop", "distance_m": 3.5}, seconds=40,
                note=("tokafor", "Safety Officer", "E-stop: rover_2 came within 4 m of the berm."),
            ))
        if trial.id_minor == 2:
            takeover = tracks["rover_1"][18]
            planned.append(PlannedEvent(
                "Operator Takeover", takeover.timestamp, takeover, {"reason": "soft sand"}, seconds=60,
                note=("lvance", "Robot Operator", "Took over in soft sand below the ridge."),
            ))
        planned.append(PlannedEvent(
            "Trial End", trial.end_datetime, metadata={"trial": trial.identifier},
            note=("mhalvorsen", "Test Director", f"Trial {trial.identifier} complete."),
        ))
        for plan in planned:
            self.add_event(trial, plan)
        # auto_now and auto_now_add stamp the wall clock on save; update() leaves the values we give.
        models.Event.objects.filter(trial=trial).update(
            submitted_datetime=F("start_datetime"), modified_datetime=F("start_datetime")
        )

    def add_event(self, trial: models.Trial, plan: PlannedEvent) -> None:
        entity = plan.pose.entity_id if plan.pose else None
        event = models.Event.objects.create(
            trial=trial, event_type=self.event_types[plan.event_type], weather=self.weather,
            start_datetime=plan.when, start_pose=plan.pose,
            end_datetime=plan.when + timedelta(seconds=plan.seconds) if plan.seconds else None,
            metadata={**plan.metadata, **({"entity": entity} if entity else {})},
        )
        if entity:
            models.EntityEventRelation.objects.create(
                event=event, entity_id=entity, entity_event_role=self.subject
            )
        if plan.note:
            username, role, text = plan.note
            models.Note.objects.create(event=event, tester=self.testers[username, role], note=text)


@dataclass(frozen=True)
class PlannedEvent:
    """An event to add: of a type, at a time, at an entity's pose (the entity it involves), lasting
    `seconds` if the type has a duration, with a note by (username, role) if any."""

    event_type: str
    when: datetime
    pose: models.Pose | None = None
    metadata: dict = field(default_factory=dict)
    seconds: int = 0
    note: tuple[str, str, str] | None = None


def track_poses(
    robot: Robot,
    entity: models.Entity,
    trial: models.Trial,
    source: models.PoseSource,
    phase: float,
    north_m: float,
) -> list[models.Pose]:
    """The robot's GPS track: one lap of its loop (the quad flies a figure of eight), every 15 s,
    with heading and speed worked out from the track itself."""
    points = []
    for step in range(POSES_PER_TRACK + 1):
        angle = phase + 2 * math.pi * step / POSES_PER_TRACK
        east = robot.offset_m[0] + robot.radius_m * math.cos(angle)
        north = north_m + robot.offset_m[1] + robot.radius_m * (
            math.sin(2 * angle) / 2 if robot.entity_type == "uav" else math.sin(angle)
        )
        points.append((east, north))
    poses = []
    for step, ((east, north), (next_east, next_north)) in enumerate(zip(points, points[1:])):
        seconds = POSE_INTERVAL.total_seconds()
        velocity = [(next_east - east) / seconds, (next_north - north) / seconds, 0.0]
        lon, lat = lon_lat(east, north)
        poses.append(models.Pose(
            entity=entity, trial=trial, pose_source=source,
            timestamp=trial.start_datetime + POSE_INTERVAL * step,
            point=Point(lon, lat, srid=4326),
            elevation=round(412.0 + 6.0 * math.sin(north / 150) + robot.height_m, 2),
            heading=round(math.degrees(math.atan2(velocity[0], velocity[1])) % 360, 1),
            speed=round(math.hypot(velocity[0], velocity[1]), 2),
            velocity=[round(component, 3) for component in velocity],
        ))
    return poses


def lon_lat(east: float, north: float) -> tuple[float, float]:
    """Metres east and north of the range centre as longitude and latitude (flat: the range is small)."""
    lon, lat = RANGE_CENTRE
    return (
        round(lon + math.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(lat)))), 7),
        round(lat + math.degrees(north / EARTH_RADIUS_M), 7),
    )
