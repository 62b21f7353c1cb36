"""Migrate an empty database one data_collection migration at a time, fingerprinting each schema.

This gives the lineage S1..Sn that legacy dumps are matched against. It runs in
one process (one Django start instead of one per migration).
"""
import json

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from schema.catalog import read_schema
from schema.fingerprint import app_tables
from schema.fingerprint import schema_fingerprint
from schema.model import to_json

APP = "data_collection"


class Command(BaseCommand):
    """`manage.py schema_lineage`: on an empty database, JSON `{"steps": [...]}`, one per migration."""

    help = "On an EMPTY database: migrate data_collection step by step and print each schema as JSON."

    def handle(self, *args, **options):
        with connection.cursor() as cursor:
            if read_schema(cursor).tables:
                raise CommandError("schema_lineage needs an empty database: it migrates it")
        loader = MigrationLoader(connection)
        (leaf,) = loader.graph.leaf_nodes(APP)
        plan = [name for app, name in loader.graph.forwards_plan(leaf) if app == APP]
        steps = []
        for name in plan:
            call_command("migrate", APP, name, verbosity=0, interactive=False)
            with connection.cursor() as cursor:
                schema = read_schema(cursor)
            steps.append({
                "migration": f"{APP}.{name}",
                "fingerprint": schema_fingerprint(schema),
                "tables": to_json(app_tables(schema))["tables"],
            })
        self.stdout.write(json.dumps({"steps": steps}, sort_keys=True))
