"""A small, deterministic field campaign, so a new database has something to look at."""
import math
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from django.core.management.base import BaseCommand
from django.db import transaction

from data_collection import models

CAMPAIGN_NAME = "Sample campaign"
POSES_PER_ENTITY = 60


class Command(BaseCommand):
    help = "Load a small sample campaign (idempotent: does nothing if it is already there)."

    @transaction.atomic
    def handle(self, *args, **options):
        if models.Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
            self.stdout.write("Sample data already present.")
            return
        start = datetime(2024, 5, 14, 9, 0, tzinfo=timezone.utc)
        location = models.Location.objects.create(name="Test range north", description="Gravel pit")
        campaign = models.Campaign.objects.create(
            name=CAMPAIGN_NAME, location=location, start_date=start.date(), description="Demo data"
        )
        method = models.TestMethod.objects.create(name="Waypoint following")
        scenario = models.Scenario.objects.create(
            name="Loop around the pit", test_method=method, description="Two laps, one stop"
        )
        testers = [models.Tester.objects.create(name=name) for name in ("Ada", "Grace")]
        performer = models.Performer.objects.create(name="Field robotics lab", institution="Mole U")
        ugv = models.EntityType.objects.create(name="UGV")
        entities = [
            models.Entity.objects.create(
                name=name, entity_type=ugv, performer=performer, serial_number=f"SN-{index:03d}"
            )
            for index, name in enumerate(("rover-1", "rover-2"), start=1)
        ]
        source = models.PoseSource.objects.create(name="rtk-gps")
        event_types = {
            name: models.EventType.objects.create(name=name) for name in ("start", "stop", "waypoint")
        }
        for trial_number in (1, 2):
            trial_start = start + timedelta(hours=trial_number)
            trial = models.Trial.objects.create(
                campaign=campaign,
                scenario=scenario,
                id_major=trial_number,
                start_datetime=trial_start,
                end_datetime=trial_start + timedelta(minutes=POSES_PER_ENTITY),
            )
            trial.testers.set(testers)
            for minute, kind in ((0, "start"), (20, "waypoint"), (40, "waypoint"), (59, "stop")):
                event = models.Event.objects.create(
                    trial=trial,
                    event_type=event_types[kind],
                    start_datetime=trial_start + timedelta(minutes=minute),
                    metadata={"minute": minute, "operator": "Ada"},
                )
                event.entities.set(entities)
            models.Note.objects.create(trial=trial, author="Grace", text=f"Trial {trial_number} went fine.")
            poses = []
            for entity_number, entity in enumerate(entities):
                for step in range(POSES_PER_ENTITY):
                    angle = 2 * math.pi * step / POSES_PER_ENTITY
                    latitude, longitude = track_point(entity_number, angle)
                    poses.append(
                        models.Pose(
                            entity=entity,
                            trial=trial,
                            pose_source=source,
                            timestamp=trial_start + timedelta(minutes=step),
                            latitude=latitude,
                            longitude=longitude,
                            elevation=410.0 + step * 0.1,
                            heading=math.degrees(angle) % 360,
                            speed=1.5,
                        )
                    )
            models.Pose.objects.bulk_create(poses)
        self.stdout.write(f"Loaded {CAMPAIGN_NAME}: 2 trials, {2 * 2 * POSES_PER_ENTITY} poses.")


def track_point(entity_number: int, angle: float) -> tuple[float, float]:
    """rover-1 laps the pit; rover-2 drives a figure of eight inside it, so their tracks differ."""
    if entity_number == 0:
        return 47.0 + 0.001 * math.sin(angle), 8.0 + 0.0015 * math.cos(angle)
    return 47.0 + 0.0005 * math.sin(2 * angle), 8.0 + 0.001 * math.sin(angle)
