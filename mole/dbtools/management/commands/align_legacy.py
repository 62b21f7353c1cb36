"""Run one custom (legacy) migration's alignment on the database now, at the point it belongs.

`migrate` would run a custom migration only after its parent, the end of the history; an
alignment to an earlier point must run before the later migrations (data migrations
included), so the tooling runs it here, in one transaction, then records the point and
migrates on.
"""
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.db import connection
from django.db import transaction
from django.db.migrations.loader import MigrationLoader

from dbtools.legacy_alignment import AlignLegacySchema
from dbtools.legacy_alignment import MisplacedAlignment
from dbtools.legacy_alignment import StepFailed
from dbtools.legacy_alignment import UnreviewedDraft
from schema.django_drift import plural_of

APP = "data_collection"


class Command(BaseCommand):
    """`manage.py align_legacy NAME`: NAME is a custom migration of data_collection."""

    help = "Run a custom legacy migration's alignment steps on the database now, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the custom migration, e.g. 0011_legacy_x")

    def handle(self, *args, **options):
        name = options["name"].removeprefix(f"{APP}.")
        loader = MigrationLoader(None, ignore_no_migrations=True)  # files only
        migration = loader.disk_migrations.get((APP, name))
        if migration is None:
            raise CommandError(f"no migration {name} in {APP}")
        alignment = next((op for op in migration.operations if isinstance(op, AlignLegacySchema)), None)
        if alignment is None:
            raise CommandError(f"{name} is not a custom legacy migration")
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                alignment.align_here(cursor)
        except (MisplacedAlignment, StepFailed, UnreviewedDraft) as error:
            raise CommandError(str(error)) from error
        count = len(alignment.steps)
        self.stdout.write(f"ran {name}: {count} {plural_of(count, 'step')}")
