from django.apps import AppConfig


class AutomationConfig(AppConfig):
    """Scripts that add events when other events happen (real Mole's `automation` app)."""

    name = "automation"
    # Integer keys, as real Mole's (Django 3.2) tables have them.
    default_auto_field = "django.db.models.AutoField"
