"""Admin pages: list displays, filters and search that make an experiment navigable."""
from django.contrib import admin

from . import models

# The experiment overview is linked from every admin page instead (templates/admin/base_site.html).
admin.site.site_url = None


@admin.register(models.Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(models.Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "start_datetime", "end_datetime"]
    list_filter = ["location"]
    search_fields = ["name", "description"]


@admin.register(models.TestMethod)
class TestMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(models.Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ["name", "test_method"]
    list_filter = ["test_method"]
    search_fields = ["name", "description"]


@admin.register(models.Tester)
class TesterAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "role__name"]


@admin.register(models.Performer)
class PerformerAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(models.EntityType)
class EntityTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(models.Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "entity_type", "physical_id"]
    list_filter = ["entity_type", "groups"]
    search_fields = ["name", "display_name", "physical_id"]


@admin.register(models.Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = ["__str__", "campaign", "scenario", "start_datetime", "end_datetime"]
    list_filter = ["campaign", "scenario", "testers"]
    search_fields = ["note", "scenario__name", "campaign__name", "testers__user__username"]
    filter_horizontal = ["testers"]
    date_hierarchy = "start_datetime"


@admin.register(models.EventType)
class EventTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(models.Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event_type", "trial", "start_datetime", "end_datetime"]
    list_filter = ["event_type", "trial__campaign", "trial", "entities"]
    search_fields = ["event_type__name", "metadata"]
    date_hierarchy = "start_datetime"


@admin.register(models.Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["event", "tester", "note"]
    list_filter = ["event__trial__campaign", "event__trial", "tester"]
    search_fields = ["note"]


@admin.register(models.PoseSource)
class PoseSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(models.Pose)
class PoseAdmin(admin.ModelAdmin):
    list_display = ["entity", "trial", "timestamp", "point", "elevation", "heading", "speed"]
    list_filter = ["trial__campaign", "trial", "entity", "pose_source"]
    list_select_related = ["entity", "trial__campaign"]
    search_fields = ["entity__name", "entity__physical_id"]
    date_hierarchy = "timestamp"


@admin.register(models.Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["image", "event", "image_type", "timestamp"]
    list_filter = ["image_type", "event__event_type", "event__trial"]
    search_fields = ["image"]
