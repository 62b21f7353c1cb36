"""Print data_collection's migrations and, for each custom (legacy) one, what it declares, as JSON.

Django's MigrationLoader is the authority on which migrations exist; a custom migration is one
whose operations include AlignLegacySchema (the format is `schema.custom_migration`'s).
"""
import json

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.db.migrations.loader import MigrationLoader

from dbtools.legacy_alignment import AlignLegacySchema

APP = "data_collection"


class Command(BaseCommand):
    """`manage.py legacy_migrations`: JSON `{"migrations": [...], "custom": [...]}` on stdout."""

    help = "Print data_collection's migrations and the custom legacy migrations' declarations as JSON."

    def handle(self, *args, **options):
        try:
            loader = MigrationLoader(None, ignore_no_migrations=True)  # files only: no database needed
        except SyntaxError as error:
            raise CommandError(f"{error.filename}, line {error.lineno}: {error.msg}") from error
        names = sorted(name for app, name in loader.disk_migrations if app == APP)
        custom = []
        for name in names:
            migration = loader.disk_migrations[(APP, name)]
            alignment = next((op for op in migration.operations if isinstance(op, AlignLegacySchema)), None)
            if alignment is None:
                continue
            parents = [f"{app}.{parent}" for app, parent in migration.dependencies if app == APP]
            custom.append({
                "name": name,
                "fingerprint": alignment.fingerprint,
                "reviewed": alignment.reviewed,
                "parent": parents[0] if parents else None,
                "point": alignment.point,
                "runs_before": alignment.runs_before,
            })
        self.stdout.write(json.dumps({"migrations": names, "custom": custom}, sort_keys=True))
