"""Triggers: conditions on incoming data that create events and call responses, and the servers and
requested data they use."""
from django.contrib.gis.db import models

from .base import Named


class ServerType(models.Model):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    key = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class ServerParam(Named):
    param = models.CharField(max_length=100)
    value = models.CharField(max_length=1000)


class Server(models.Model):
    name = models.CharField(max_length=100, unique=True)
    server_type = models.ForeignKey(ServerType, models.CASCADE)
    active = models.BooleanField(default=True)
    base_url = models.CharField(max_length=1000)
    server_params = models.ManyToManyField(ServerParam, blank=True)

    def __str__(self) -> str:
        return self.name


class ConditionVariable(Named):
    variable = models.TextField(default="")


class RequestedData(Named):
    destination_url = models.TextField(default="")
    payload = models.JSONField(default=dict)


class KeyValuePair(models.Model):
    key = models.CharField(max_length=255)
    value = models.CharField(max_length=255)

    def __str__(self) -> str:
        return f"{self.key}:{self.value}"


class TriggerResponse(Named):
    method = models.CharField(max_length=100)
    module = models.CharField(max_length=100)
    parameters = models.ManyToManyField(KeyValuePair, blank=True)


class OrderedTriggerResponse(models.Model):
    order = models.IntegerField()
    trigger_response = models.ForeignKey(TriggerResponse, models.CASCADE)

    class Meta:
        unique_together = [("order", "trigger_response")]
        ordering = ["order", "trigger_response"]

    def __str__(self) -> str:
        return f"{self.order}: {self.trigger_response}"


class Trigger(Named):
    is_active = models.BooleanField(default=True)
    is_manual = models.BooleanField(default=False)
    creates_event = models.BooleanField(default=True)
    key = models.CharField(max_length=100, unique=True)
    condition = models.TextField(blank=True, null=True)
    condition_variables = models.ManyToManyField(ConditionVariable, blank=True)
    event_type = models.ForeignKey("EventType", models.CASCADE, blank=True, null=True)
    requested_dataset = models.ManyToManyField(RequestedData, blank=True)
    trigger_transport = models.CharField(max_length=10, blank=True, default="")
    trigger_responses = models.ManyToManyField(OrderedTriggerResponse, blank=True)
