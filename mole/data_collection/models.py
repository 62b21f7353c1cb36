"""The experiment data model: campaigns of field trials, what moved in them, and what happened."""
from django.db import models


class Location(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    name = models.CharField(max_length=100)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="campaigns")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class TestMethod(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class Scenario(models.Model):
    name = models.CharField(max_length=100)
    test_method = models.ForeignKey(TestMethod, on_delete=models.PROTECT, related_name="scenarios")
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class Tester(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.name


class Performer(models.Model):
    name = models.CharField(max_length=100)
    institution = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class EntityType(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class Entity(models.Model):
    name = models.CharField(max_length=100)
    entity_type = models.ForeignKey(EntityType, on_delete=models.PROTECT, related_name="entities")
    performer = models.ForeignKey(
        Performer, on_delete=models.SET_NULL, null=True, blank=True, related_name="entities"
    )
    serial_number = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name_plural = "entities"

    def __str__(self) -> str:
        return self.name


class Trial(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="trials")
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="trials")
    id_major = models.PositiveIntegerField()
    id_minor = models.PositiveIntegerField(default=0)
    id_micro = models.PositiveIntegerField(default=0)
    start_datetime = models.DateTimeField()
    end_datetime = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    testers = models.ManyToManyField(Tester, blank=True, related_name="trials")

    class Meta:
        ordering = ["campaign", "id_major", "id_minor", "id_micro"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "id_major", "id_minor", "id_micro"],
                name="unique_trial_id_per_campaign",
            ),
        ]

    @property
    def identifier(self) -> str:
        return f"{self.id_major}.{self.id_minor}.{self.id_micro}"

    def __str__(self) -> str:
        return f"{self.campaign} trial {self.identifier}"


class EventType(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="events")
    event_type = models.ForeignKey(EventType, on_delete=models.PROTECT, related_name="events")
    start_datetime = models.DateTimeField()
    end_datetime = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(blank=True, default=dict)
    entities = models.ManyToManyField(Entity, blank=True, related_name="events")

    class Meta:
        ordering = ["start_datetime"]

    def __str__(self) -> str:
        return f"{self.event_type} at {self.start_datetime:%Y-%m-%d %H:%M:%S}"


class Note(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="notes")
    author = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    text = models.TextField()

    def __str__(self) -> str:
        return self.text[:50]


class PoseSource(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class Pose(models.Model):
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="poses")
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="poses")
    timestamp = models.DateTimeField()
    latitude = models.FloatField()
    longitude = models.FloatField()
    elevation = models.FloatField(null=True, blank=True)
    heading = models.FloatField(null=True, blank=True)
    speed = models.FloatField(null=True, blank=True)
    pose_source = models.ForeignKey(
        PoseSource, on_delete=models.PROTECT, null=True, blank=True, related_name="poses"
    )

    class Meta:
        ordering = ["timestamp"]
        indexes = [models.Index(fields=["entity", "timestamp"], name="pose_entity_time_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                & models.Q(longitude__gte=-180, longitude__lte=180),
                name="pose_coordinates_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity} at {self.timestamp:%H:%M:%S}"


class Image(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to="events/%Y/%m/")
    caption = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.file.name
