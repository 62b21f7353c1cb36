"""Admin pages: list displays, filters and search that make an experiment navigable.

Filters use the real relations (entities and entity types are keyed by name, testers are users in
roles, notes hang off events), and every list selects its foreign keys in the same query.
"""
from django import forms
from django.contrib import admin
from django.contrib.gis.db import models as gis_models

from . import models

# The experiment overview is linked from every admin page instead (templates/admin/base_site.html).
admin.site.site_url = None


class OfflineGeometryAdmin(admin.ModelAdmin):
    """Geometry as editable WKT text: GeoDjango's map widget loads OpenLayers from a CDN, and the
    machines Mole runs on have no internet."""

    formfield_overrides = {gis_models.GeometryField: {"widget": forms.Textarea(attrs={"rows": 2})}}


def related_filter(*select_related: str) -> type[admin.RelatedFieldListFilter]:
    """A filter by a relation whose records name themselves by other records (a trial by its
    scenario, a tester by user and role): read in one query, not one per choice."""

    class Filter(admin.RelatedFieldListFilter):
        def field_choices(self, field, request, model_admin):
            ordering = self.field_admin_ordering(field, request, model_admin)
            choices = field.related_model._default_manager.select_related(*select_related)
            return [(choice.pk, str(choice)) for choice in choices.order_by(*ordering)]

    return Filter


BY_TRIAL = related_filter("scenario")
BY_TESTER = related_filter("user", "role")


class NamedAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name", "description"]


for lookup in (
    models.PoseSource, models.Role, models.Performer, models.Weather, models.ImageType,
    models.Capability, models.EntityState,
):
    admin.site.register(lookup, NamedAdmin)


@admin.register(models.Location)
class LocationAdmin(OfflineGeometryAdmin):
    list_display = ["name", "point", "timezone"]
    search_fields = ["name", "description"]


@admin.register(models.Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "start_datetime", "end_datetime"]
    list_filter = ["location"]
    list_select_related = ["location"]
    search_fields = ["name", "description"]
    date_hierarchy = "start_datetime"


@admin.register(models.TestMethod)
class TestMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "version_major", "version_minor", "version_micro", "variant", "has_segments"]
    search_fields = ["name", "description"]


@admin.register(models.Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ["name", "variant", "test_method", "location", "time_limit"]
    list_filter = ["test_method", "location"]
    list_select_related = ["test_method", "location"]
    search_fields = ["name", "description"]


@admin.register(models.Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["tag", "name"]
    list_filter = ["scenarios"]
    search_fields = ["name", "description"]


@admin.register(models.CapabilityUnderTest)
class CapabilityUnderTestAdmin(admin.ModelAdmin):
    list_display = ["name", "performer"]
    list_filter = ["performer"]
    list_select_related = ["performer"]
    search_fields = ["name", "description"]


@admin.register(models.SystemConfiguration)
class SystemConfigurationAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name", "description"]
    filter_horizontal = ["capabilities_under_test"]


@admin.register(models.Tester)
class TesterAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "role__name"]


@admin.register(models.UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "current_role"]
    list_filter = ["current_role"]
    list_select_related = ["user", "current_role"]


@admin.register(models.EntityType)
class EntityTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "description", "point_style"]
    search_fields = ["name", "display_name"]


@admin.register(models.EntityGroup)
class EntityGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "basemap_element"]
    search_fields = ["name"]


@admin.register(models.Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "entity_type", "physical_id"]
    list_filter = ["entity_type", "groups"]
    search_fields = ["name", "display_name", "physical_id"]


@admin.register(models.PointStyle)
class PointStyleAdmin(admin.ModelAdmin):
    list_display = ["name", "icon", "color", "use_marker_pin", "marker_color"]
    search_fields = ["name"]


@admin.register(models.Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = [
        "__str__", "campaign", "scenario", "system_configuration", "start_datetime", "end_datetime"
    ]
    list_filter = ["campaign", "scenario", "system_configuration", ("testers", BY_TESTER), "current"]
    list_select_related = ["campaign", "scenario", "system_configuration"]
    search_fields = ["note", "bagfile", "scenario__name", "campaign__name", "testers__user__username"]
    filter_horizontal = ["testers", "entities"]
    date_hierarchy = "start_datetime"


@admin.register(models.EventLevel)
class EventLevelAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "visibility"]
    search_fields = ["name"]


@admin.register(models.EventType)
class EventTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "event_level", "has_duration", "is_manual", "ends_segment"]
    list_filter = ["event_level", "has_duration", "is_manual"]
    list_select_related = ["event_level"]
    search_fields = ["name", "description"]


@admin.register(models.EntityEventRole)
class EntityEventRoleAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "entity_state"]
    search_fields = ["name"]


class EntityEventRelationInline(admin.TabularInline):
    model = models.EntityEventRelation
    extra = 0


class NoteInline(admin.TabularInline):
    model = models.Note
    extra = 0


@admin.register(models.Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event_type", "trial", "start_datetime", "end_datetime", "weather"]
    list_filter = [
        "event_type", "event_type__event_level", "trial__campaign", ("trial", BY_TRIAL), "entities"
    ]
    list_select_related = ["event_type", "trial__scenario", "weather"]
    search_fields = ["event_type__name", "metadata"]
    date_hierarchy = "start_datetime"
    # A trial holds thousands of poses: a search box instead of a select of all of them.
    raw_id_fields = ["start_pose"]
    inlines = [EntityEventRelationInline, NoteInline]


@admin.register(models.Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["event", "tester", "note"]
    list_filter = [
        "event__trial__campaign", ("event__trial", BY_TRIAL), "event__event_type", ("tester", BY_TESTER)
    ]
    list_select_related = ["event__event_type", "tester__user", "tester__role"]
    search_fields = ["note", "tester__user__username"]


@admin.register(models.Pose)
class PoseAdmin(OfflineGeometryAdmin):
    list_display = ["entity", "trial", "timestamp", "point", "elevation", "heading", "speed"]
    list_filter = ["trial__campaign", ("trial", BY_TRIAL), "entity", "pose_source"]
    list_select_related = ["entity", "trial__scenario"]
    search_fields = ["entity__name", "entity__physical_id"]
    date_hierarchy = "timestamp"


@admin.register(models.RegionType)
class RegionTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(models.Region)
class RegionAdmin(OfflineGeometryAdmin):
    list_display = ["name", "region_type", "z_layer"]
    list_filter = ["region_type", "scenarios"]
    search_fields = ["name"]


@admin.register(models.Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["image", "event", "image_type", "timestamp"]
    list_filter = ["image_type", "event__event_type", ("event__trial", BY_TRIAL)]
    list_select_related = ["image_type", "event__event_type"]
    search_fields = ["image"]
