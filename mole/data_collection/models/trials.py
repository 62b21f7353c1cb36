"""Where and how testing happens: campaigns at locations, test methods and their scenarios, and the
trials that run a scenario with a system configuration."""
from datetime import timedelta

from django.contrib.gis.db import models

from .base import Named


class Weather(Named):
    current = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]


class TestCondition(models.Model):
    weather = models.ForeignKey(
        Weather, models.CASCADE, blank=True, null=True, related_name="test_conditions"
    )

    def __str__(self) -> str:
        return str(self.weather)


class Location(Named):
    point = models.PointField(blank=True, null=True)
    timezone = models.CharField(max_length=100, blank=True, default="America/Los_Angeles")

    class Meta:
        ordering = ["name"]


class Campaign(Named):
    start_datetime = models.DateTimeField()
    end_datetime = models.DateTimeField(blank=True, null=True)
    location = models.ForeignKey(Location, models.CASCADE, blank=True, null=True)
    # This campaign's words for the three parts of a trial's id (major.minor.micro).
    trial_id_major_name = models.CharField(max_length=100, blank=True, default="")
    trial_id_minor_name = models.CharField(max_length=100, blank=True, default="")
    trial_id_micro_name = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-start_datetime"]


class TestMethod(Named):
    version_major = models.IntegerField()
    version_minor = models.IntegerField()
    version_micro = models.IntegerField()
    has_segments = models.BooleanField(default=False)
    variant = models.CharField(max_length=100, blank=True, null=True)

    class Meta:
        ordering = ["name"]


class Scenario(Named):
    variant = models.CharField(max_length=100, blank=True, null=True)
    time_limit = models.DurationField(blank=True, null=True, default=timedelta)
    test_method = models.ForeignKey(TestMethod, models.CASCADE, related_name="scenarios")
    location = models.ForeignKey(Location, models.CASCADE, related_name="scenarios")
    entity_groups = models.ManyToManyField("EntityGroup", blank=True, related_name="scenarios")
    scripts = models.ManyToManyField("automation.Script", blank=True, related_name="scenarios")


class Segment(models.Model):
    """A numbered part of scenarios; events of a type that `ends_segment` end one."""

    tag = models.PositiveIntegerField()
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")
    scenarios = models.ManyToManyField(Scenario, related_name="potential_segments")

    def __str__(self) -> str:
        return f"{self.tag} -- {self.name}"


class Trial(models.Model):
    """One run of a scenario, identified within its campaign by major.minor.micro."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, blank=True, null=True, related_name="trials")
    id_major = models.IntegerField()
    id_minor = models.IntegerField()
    id_micro = models.IntegerField()
    start_datetime = models.DateTimeField()
    end_datetime = models.DateTimeField(blank=True, null=True)
    testers = models.ManyToManyField("Tester")
    system_configuration = models.ForeignKey("SystemConfiguration", models.CASCADE)
    test_condition = models.ForeignKey(
        TestCondition, models.CASCADE, blank=True, null=True, related_name="trials"
    )
    bagfile = models.CharField(max_length=100, blank=True, default="")
    note = models.TextField(blank=True, default="")
    entities = models.ManyToManyField("Entity", blank=True, related_name="trials")
    scenario = models.ForeignKey(Scenario, models.CASCADE, related_name="trials")
    current = models.BooleanField(default=False)
    reported = models.BooleanField(default=True)
    clock_config = models.ForeignKey(
        "ClockConfig", models.SET_NULL, blank=True, null=True, related_name="trials"
    )

    class Meta:
        unique_together = [("id_major", "id_minor", "id_micro", "campaign")]
        ordering = ["id_major", "id_minor", "id_micro"]

    @property
    def identifier(self) -> str:
        return f"{self.id_major}.{self.id_minor}.{self.id_micro}"

    def __str__(self) -> str:
        return f"{self.identifier} ({self.scenario})"
