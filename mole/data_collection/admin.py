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
    list_display = ["name", "location", "start_date", "end_date"]
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
    list_display = ["name", "email"]
    search_fields = ["name", "email"]


@admin.register(models.Performer)
class PerformerAdmin(admin.ModelAdmin):
    list_display = ["name", "institution"]
    search_fields = ["name", "institution"]


@admin.register(models.EntityType)
class EntityTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(models.Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["name", "entity_type", "performer", "serial_number"]
    list_filter = ["entity_type", "performer"]
    search_fields = ["name", "serial_number"]


@admin.register(models.Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = ["__str__", "campaign", "scenario", "start_datetime", "end_datetime"]
    list_filter = ["campaign", "scenario", "testers"]
    search_fields = ["note", "scenario__name", "campaign__name", "testers__name"]
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
    filter_horizontal = ["entities"]
    date_hierarchy = "start_datetime"


@admin.register(models.Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["trial", "author", "created", "text"]
    list_filter = ["trial__campaign", "trial", "author"]
    search_fields = ["text", "author"]


@admin.register(models.PoseSource)
class PoseSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(models.Pose)
class PoseAdmin(admin.ModelAdmin):
    list_display = ["entity", "trial", "timestamp", "latitude", "longitude", "elevation", "heading", "speed"]
    list_filter = ["trial__campaign", "trial", "entity", "pose_source"]
    list_select_related = ["entity", "trial__campaign"]
    search_fields = ["entity__name", "entity__serial_number"]
    date_hierarchy = "timestamp"


@admin.register(models.Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["file", "event", "caption"]
    list_filter = ["event__event_type", "event__trial"]
    search_fields = ["caption", "file"]
