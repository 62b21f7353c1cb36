"""Scenario scripts: when an event of an initiating type arrives and the script's conditions hold,
a chain of scripted events is added to the trial, each after its delay."""
from django.contrib.gis.db import models

EVENT_TYPE = "data_collection.EventType"


class ScriptedEvent(models.Model):
    """One link of a script's chain: the event to add, then the next link."""

    name = models.CharField(max_length=100)
    conditions = models.ManyToManyField("ScriptCondition", blank=True)
    conditions_pass_if_any = models.BooleanField(default=False)
    delay_seconds = models.PositiveIntegerField(blank=True, null=True, default=0)
    event_type = models.ForeignKey(EVENT_TYPE, models.CASCADE, related_name="scripted_event")
    add_event_metadata = models.JSONField(default=dict)
    copy_trigger_metadata = models.BooleanField(default=False)
    next_scripted_event = models.ForeignKey(
        "self", models.SET_NULL, blank=True, null=True, default=None, related_name="scripted_event"
    )

    def __str__(self) -> str:
        return self.name


class ScriptCondition(models.Model):
    """A test on the trial's events or on the metadata of the event or trigger that started the script."""

    name = models.CharField(max_length=100, blank=True, null=True)
    description = models.TextField(blank=True, null=True, default="")
    trial_has_event = models.ForeignKey(
        EVENT_TYPE, models.SET_NULL, blank=True, null=True, default=None,
        related_name="script_condition_has_event",
    )
    trial_missing_event = models.ForeignKey(
        EVENT_TYPE, models.SET_NULL, blank=True, null=True, default=None,
        related_name="script_condition_missing_event",
    )
    event_metadata_contains = models.CharField(max_length=100, blank=True, null=True)
    event_metadata_excludes = models.CharField(max_length=100, blank=True, null=True)
    trigger_metadata_contains = models.CharField(max_length=100, blank=True, null=True)
    trigger_metadata_excludes = models.CharField(max_length=100, blank=True, null=True)

    def __str__(self) -> str:
        return self.name or f"condition {self.pk}"


class ScriptRunCount(models.Model):
    """How often a script ran in a trial, against its run limit."""

    trial = models.ForeignKey("data_collection.Trial", models.CASCADE, related_name="script_run_count")
    script = models.ForeignKey("Script", models.CASCADE, related_name="script_run_count")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        unique_together = [("trial", "script")]


class Script(models.Model):
    name = models.CharField(max_length=100, unique=True)
    initiating_event_types = models.ManyToManyField(EVENT_TYPE, related_name="initiating_types")
    conditions = models.ManyToManyField(ScriptCondition, blank=True, related_name="script_conditions")
    # NULL: no limit.
    run_limit = models.PositiveIntegerField(blank=True, null=True, default=None)
    auto_repeat_count = models.PositiveIntegerField(default=0)
    conditions_pass_if_any = models.BooleanField(default=False)
    # An event of this type stops the script's pending events.
    cancelling_event_type = models.ForeignKey(
        EVENT_TYPE, models.SET_NULL, blank=True, null=True, default=None, related_name="cancelling_type"
    )
    scripted_event_head = models.ForeignKey(
        ScriptedEvent, models.SET_NULL, blank=True, null=True, default=None, related_name="script"
    )

    def __str__(self) -> str:
        return self.name
