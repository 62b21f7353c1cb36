"""Print schemas of the connected database as JSON, for comparison on the host."""
import json

from django.core.management.base import BaseCommand
from django.db import connection

from schema.catalog import read_schema
from schema.model import to_json


class Command(BaseCommand):
    """`manage.py schema_snapshot [--schema S]...`: `{name: snapshot}` as JSON, one snapshot
    (`schema.model.to_json`) per schema named (public by default), read in one Django start."""

    help = "Print database schemas (tables, columns, constraints, indexes) as JSON, by schema name."

    def add_arguments(self, parser):
        parser.add_argument("--schema", action="append", help="PostgreSQL schema to read (repeatable).")

    def handle(self, *args, schema, **options):
        with connection.cursor() as cursor:
            result = {name: to_json(read_schema(cursor, name)) for name in schema or ["public"]}
        self.stdout.write(json.dumps(result, sort_keys=True))
