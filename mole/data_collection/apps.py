from django.apps import AppConfig


class DataCollectionConfig(AppConfig):
    name = "data_collection"
    verbose_name = "Data collection"
    # Integer keys, as real Mole's (Django 3.2) tables have them.
    default_auto_field = "django.db.models.AutoField"
