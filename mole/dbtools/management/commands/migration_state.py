"""Print which migrations are applied and which are not, as JSON."""
import json

import django
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.migrations.loader import MigrationLoader


class Command(BaseCommand):
    """`manage.py migration_state`: JSON with applied and unapplied migrations and heads."""

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
        }
        self.stdout.write(json.dumps(result, sort_keys=True))
