"""Print which migrations are applied and which are not, as JSON."""
import json

import django
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.migrations.loader import MigrationLoader


def app_tables(label: str) -> list[str]:
    """The tables of an app's models, many-to-many tables included (what its migrations make)."""
    tables = set()
    for model in apps.get_app_config(label).get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            tables.add(model._meta.db_table)
    return sorted(tables)


class Command(BaseCommand):
    """`manage.py migration_state`: JSON with applied and unapplied migrations, heads, and the
    tables of each app that has migrations."""

    help = "Print applied and unapplied migrations and the head of each app as JSON."

    def handle(self, *args, **options):
        loader = MigrationLoader(connection, ignore_no_migrations=True)
        applied = set(loader.applied_migrations)
        full_plan = []
        for leaf in loader.graph.leaf_nodes():
            for node in loader.graph.forwards_plan(leaf):
                if node not in full_plan:
                    full_plan.append(node)
        heads = {app: name for app, name in loader.graph.leaf_nodes()}
        applied_heads = {}
        for app, name in full_plan:
            if (app, name) in applied:
                applied_heads[app] = name
        result = {
            "django_version": django.get_version(),
            "applied": [f"{app}.{name}" for app, name in full_plan if (app, name) in applied],
            "unapplied": [f"{app}.{name}" for app, name in full_plan if (app, name) not in applied],
            "heads": heads,
            "applied_heads": applied_heads,
            "tables": {app: app_tables(app) for app in sorted(loader.migrated_apps)},
        }
        self.stdout.write(json.dumps(result, sort_keys=True))
