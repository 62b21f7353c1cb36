"""What happened in a trial: events of typed kinds with JSON metadata, the entities they involve and
in which role, and the notes and images attached to them."""
from pathlib import PurePosixPath

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from easy_thumbnails.fields import ThumbnailerImageField

from .base import Named


class EventLevel(Named):
    key = models.CharField(max_length=100, unique=True)
    visibility = models.IntegerField()


class EventType(Named):
    has_duration = models.BooleanField(default=False)
    event_level = models.ForeignKey(EventLevel, models.CASCADE)
    # Opening an event of this type closes open events of these types.
    exclusive_with = models.ManyToManyField("self", blank=True)
    # Closing an event of this type closes open events of these types.
    resets_with = models.ManyToManyField("self", blank=True)
    ends_segment = models.BooleanField(default=False)
    is_manual = models.BooleanField(default=True)
    point_style = models.ForeignKey(
        "PointStyle", models.SET_NULL, blank=True, null=True, related_name="event_types_styled"
    )
    # Metadata keys shown first, and those that choose the event's point style.
    priority_metadata = ArrayField(models.CharField(max_length=100), blank=True, default=list)
    metadata_style_fields = ArrayField(models.CharField(max_length=100), blank=True, null=True)


class Event(models.Model):
    modified_datetime = models.DateTimeField(auto_now=True)
    trial = models.ForeignKey("Trial", models.CASCADE)
    submitted_datetime = models.DateTimeField(auto_now_add=True)
    start_datetime = models.DateTimeField(blank=True)
    end_datetime = models.DateTimeField(blank=True, null=True)
    start_pose = models.ForeignKey("Pose", models.CASCADE, blank=True, null=True, related_name="events")
    event_type = models.ForeignKey(EventType, models.CASCADE)
    weather = models.ForeignKey("Weather", models.CASCADE)
    trigger = models.ForeignKey("Trigger", models.CASCADE, blank=True, null=True)
    segment = models.ForeignKey("Segment", models.CASCADE, blank=True, null=True)
    metadata = models.JSONField(default=dict)
    entities = models.ManyToManyField(
        "Entity", through="EntityEventRelation", related_name="associated_events"
    )
    # Entity names submitted with the event that matched no entity, or no role's rules.
    unfound_entities = models.JSONField(default=list)
    invalid_entities = models.JSONField(default=list)

    class Meta:
        ordering = ["-start_datetime"]

    def __str__(self) -> str:
        return f"{self.event_type} ({self.start_datetime})"


class EntityEventRole(models.Model):
    """A part an entity can play in an event, limited to some event types, entity types and groups."""

    name = models.CharField(max_length=100, unique=True)
    # The metadata key whose value names the entity, when an event names it in its metadata.
    metadata_key = models.ForeignKey("MetadataKey", models.SET_NULL, blank=True, null=True)
    description = models.TextField(blank=True, default="")
    # The state the role puts the entity in.
    entity_state = models.ForeignKey("EntityState", models.SET_NULL, blank=True, null=True)
    valid_event_types = models.ManyToManyField(EventType, blank=True)
    valid_entity_types = models.ManyToManyField("EntityType", blank=True)
    valid_entity_groups = models.ManyToManyField("EntityGroup", blank=True)

    def __str__(self) -> str:
        return self.name


class EntityEventRelation(models.Model):
    """An entity in an event, in a role."""

    entity_event_role = models.ForeignKey(EntityEventRole, models.CASCADE)
    event = models.ForeignKey(Event, models.CASCADE, related_name="related_entities")
    entity = models.ForeignKey("Entity", models.CASCADE)


class Note(models.Model):
    tester = models.ForeignKey("Tester", models.CASCADE, blank=True)
    note = models.TextField()
    event = models.ForeignKey(Event, models.CASCADE, related_name="notes")

    def __str__(self) -> str:
        return self.note[:50]


class ImageType(Named):
    # The message topic images of this type arrive on.
    topic = models.CharField(max_length=100, blank=True, default="")


def image_path(image: "Image", filename: str) -> str:
    """`images/<type>_<timestamp>.<ext>`, without spaces or colons (they trouble some file systems)."""
    stem = f"{image.image_type}_{image.timestamp}".replace(" ", "_").replace(":", "-")
    return str(PurePosixPath("images") / f"{stem}{PurePosixPath(filename).suffix}")


class Image(models.Model):
    image = ThumbnailerImageField(upload_to=image_path)
    image_type = models.ForeignKey(ImageType, models.CASCADE, blank=True)
    event = models.ForeignKey(Event, models.CASCADE, related_name="images")
    timestamp = models.DateTimeField()

    class Meta:
        ordering = ["-image_type__id"]

    def __str__(self) -> str:
        return self.image.name


class MetadataKey(Named):
    """A key events of the listed types may carry in their metadata."""

    event_type_list = models.ManyToManyField(EventType, blank=True)


class MetadataValue(Named):
    """A value the listed metadata keys may take."""

    metadata_keys = models.ManyToManyField(MetadataKey, blank=True)
