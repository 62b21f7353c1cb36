"""The clock shown during a trial: phases that count down or up, each starting and ending at a
fixed time, at the trial's start or end, or at an event of a given type."""
from django.contrib.gis.db import models


class ClockPhase(models.Model):
    message = models.CharField(max_length=100)
    message_only = models.BooleanField(default=False)
    countdown = models.BooleanField(default=True)
    duration_seconds = models.PositiveIntegerField(blank=True, null=True, default=0)
    starts_with_datetime = models.DateTimeField(blank=True, null=True)
    starts_with_trial_start = models.BooleanField(default=False)
    starts_with_trial_end = models.BooleanField(default=False)
    ends_with_datetime = models.DateTimeField(blank=True, null=True)
    ends_with_trial_start = models.BooleanField(default=False)
    ends_with_trial_end = models.BooleanField(default=False)
    starts_with_event_type = models.ForeignKey(
        "EventType", models.SET_NULL, blank=True, null=True, default=None, related_name="event_type_start"
    )
    ends_with_event_type = models.ForeignKey(
        "EventType", models.SET_NULL, blank=True, null=True, default=None, related_name="event_type_end"
    )

    class Meta:
        ordering = ["-starts_with_datetime", "ends_with_datetime"]

    def __str__(self) -> str:
        return self.message


class ClockConfig(models.Model):
    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=50, default="America/Los_Angeles")
    phases = models.ManyToManyField(ClockPhase, related_name="clock_configs")

    def __str__(self) -> str:
        return self.name
