"""Named areas (polygons) of scenarios, by type."""
from django.contrib.gis.db import models

from .base import nullable_description


class RegionType(models.Model):
    name = models.CharField(max_length=100, primary_key=True)
    description = nullable_description()

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    name = models.CharField(max_length=100, primary_key=True)
    region_type = models.ForeignKey(RegionType, models.CASCADE, related_name="regions")
    geom = models.PolygonField(srid=4326)
    key_point = models.PointField(srid=4326, blank=True, null=True, default=None)
    z_layer = models.FloatField()
    scenarios = models.ManyToManyField("Scenario", blank=True, related_name="regions")

    def __str__(self) -> str:
        return self.name
