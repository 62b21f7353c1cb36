"""What takes part in trials (entities: robots, vehicles, stations), what they can do, and how maps
draw them. Entities and the lookups around them are keyed by name, which is what operators type."""
from django.contrib.gis.db import models

from .base import Named
from .base import nullable_description


class Capability(Named):
    description = nullable_description()
    display_name = models.CharField(max_length=100, blank=True, default="")


class Mod(models.Model):
    """A modification installed on entities, providing capabilities."""

    name = models.CharField(max_length=100, primary_key=True)
    description = nullable_description()
    display_name = models.CharField(max_length=100, blank=True, default="")
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="mods_providing")

    def __str__(self) -> str:
        return self.display_name or self.name


class PointStyle(models.Model):
    """How a map draws a point: an icon or a marker pin, colours, size and animation."""

    name = models.CharField(max_length=100, primary_key=True)
    description = nullable_description()
    icon = models.CharField(max_length=200, blank=True, null=True)
    color = models.CharField(max_length=100, blank=True, null=True)
    use_marker_pin = models.BooleanField(default=True)
    marker_color = models.CharField(max_length=100, blank=True, null=True)
    scale_factor = models.DecimalField(max_digits=7, decimal_places=4, blank=True, null=True)
    animation = models.CharField(max_length=100, blank=True, null=True)
    # A symbol turns with the map, a marker does not; symbols take PNG icons only.
    render_as_symbol = models.BooleanField(blank=True, null=True, default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EntityState(models.Model):
    """A state an event can put an entity in (e.g. disabled). Each field changes one property of
    the entity's point style; NULL leaves it as the style has it."""

    name = models.CharField(max_length=100, primary_key=True)
    description = models.TextField(blank=True, default="")
    point_style_icon_transform = models.CharField(max_length=100, blank=True, null=True)
    point_style_color_transform = models.CharField(max_length=100, blank=True, null=True)
    point_style_use_marker_pin_override = models.BooleanField(blank=True, null=True, default=None)
    point_style_marker_color_transform = models.CharField(max_length=100, blank=True, null=True)
    point_style_scale_factor_override = models.DecimalField(
        max_digits=7, decimal_places=4, blank=True, null=True, default=None
    )
    point_style_animation_transform = models.CharField(max_length=100, blank=True, null=True)
    point_style_render_as_symbol_override = models.BooleanField(blank=True, null=True, default=None)

    def __str__(self) -> str:
        return self.name


class EntityType(models.Model):
    name = models.CharField(max_length=100, primary_key=True)
    display_name = models.CharField(max_length=100, blank=True, default="")
    description = nullable_description()
    # The reverse name is real Mole's, misspelling included: its API and data use it.
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="entity_types_posessing")
    point_style = models.ForeignKey(
        PointStyle, models.SET_NULL, blank=True, null=True, related_name="entity_types_styled"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EntityGroup(models.Model):
    name = models.CharField(max_length=100)
    description = nullable_description()
    # Members of a basemap group are drawn as soon as the map loads.
    basemap_element = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class Entity(models.Model):
    name = models.CharField(max_length=100, primary_key=True)
    display_name = models.CharField(max_length=100, blank=True, default="")
    physical_id = models.CharField(max_length=100, blank=True, default="")
    description = nullable_description()
    entity_type = models.ForeignKey(
        EntityType, models.CASCADE, blank=True, null=True, related_name="entities"
    )
    groups = models.ManyToManyField(EntityGroup, blank=True, related_name="related_entities")
    mods = models.ManyToManyField(Mod, blank=True, related_name="entities_installed")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "entities"

    def __str__(self) -> str:
        return self.display_name or self.name
