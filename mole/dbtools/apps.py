from django.apps import AppConfig


class DbtoolsConfig(AppConfig):
    """Management commands that the tooling runs inside whichever backend holds Django."""

    name = "dbtools"
    verbose_name = "Database tooling"
