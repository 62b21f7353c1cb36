"""What most of Mole's lookup tables share: a unique name to pick a record by, and a free text."""
from django.contrib.gis.db import models


class Named(models.Model):
    """A record known by its unique name."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


def nullable_description() -> models.TextField:
    """Mole's oldest tables allow a NULL description besides an empty one."""
    return models.TextField(blank=True, null=True, default="")
