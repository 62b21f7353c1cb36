from django.apps import AppConfig


class DataCollectionConfig(AppConfig):
    name = "data_collection"
    verbose_name = "Data collection"
    default_auto_field = "django.db.models.BigAutoField"
