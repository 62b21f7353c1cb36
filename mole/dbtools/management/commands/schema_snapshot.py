"""Print the connected database's schema as JSON, for comparison on the host."""
import json

from django.core.management.base import BaseCommand
from django.db import connection

from schema.catalog import read_schema
from schema.model import to_json


class Command(BaseCommand):
    """`manage.py schema_snapshot [--schema S]`: the schema's snapshot as JSON (`schema.model.to_json`)."""

    help = "Print the database schema (tables, columns, constraints, indexes) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--schema", default="public", help="PostgreSQL schema to read.")

    def handle(self, *args, schema, **options):
        with connection.cursor() as cursor:
            result = to_json(read_schema(cursor, schema))
        self.stdout.write(json.dumps(result, sort_keys=True))
