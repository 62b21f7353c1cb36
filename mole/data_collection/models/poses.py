"""Where entities were: one row per position report, from a pose source (GPS, a simulator, ...)."""
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField

from .base import Named


class PoseSource(Named):
    pass


class Pose(models.Model):
    point = models.PointField(srid=4326, blank=True)
    elevation = models.FloatField(blank=True, null=True)
    heading = models.FloatField(blank=True, null=True)
    entity = models.ForeignKey("Entity", models.CASCADE, related_name="poses")
    pose_source = models.ForeignKey(PoseSource, models.CASCADE)
    timestamp = models.DateTimeField(blank=True)
    trial = models.ForeignKey("Trial", models.CASCADE, blank=True, null=True, related_name="poses")
    speed = models.FloatField(blank=True, null=True)
    velocity = ArrayField(models.FloatField(), blank=True, default=list)

    def __str__(self) -> str:
        return f"{self.entity}/{self.pose_source} ({self.timestamp})"
