"""Rehearse one migration on the database, operation by operation, and undo everything.

Run on a database right before the migration (`migrate` just failed on it, and Django runs
each migration in its own transaction, so the database is still there). Each operation runs
in a savepoint with its deferred SQL and constraint checks forced, so that the first one
PostgreSQL refuses is known; the rules it sets on existing rows (dbtools.data_requirements)
are then measured on the data as it is at that moment, after the migration's earlier
operations. The whole rehearsal is rolled back.
"""
import json

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.db import connection
from django.db import transaction
from django.db.migrations.loader import MigrationLoader

from dbtools.data_requirements import measure
from dbtools.data_requirements import requirements_of
from schema.planner import CONVERTIBLE_FUNCTION


class Rehearsed(Exception):
    """Raised to roll the rehearsal back."""


class Command(BaseCommand):
    """`manage.py rehearse_migration APP.NAME`: JSON `{"migration", "failed", "operation", "error",
    "requirements": [...]}` on stdout."""

    help = "Rehearse one migration operation by operation on this database, roll it back, and print JSON."

    def add_arguments(self, parser):
        parser.add_argument("migration", help="app.name, e.g. data_collection.0010_create_metadata_keys")

    def handle(self, *args, **options):
        app, _, name = options["migration"].partition(".")
        loader = MigrationLoader(connection, ignore_no_migrations=True)
        migration = loader.disk_migrations.get((app, name))
        if migration is None:
            raise CommandError(f"no migration {options['migration']}")
        result = {"migration": f"{app}.{name}", "failed": False}
        state = loader.project_state((app, name), at_end=False)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(CONVERTIBLE_FUNCTION)
                result.update(rehearse(app, migration, state))
                raise Rehearsed
        except Rehearsed:
            pass
        self.stdout.write(json.dumps(result, sort_keys=True))


def rehearse(app: str, migration, state) -> dict:
    """Run the operations in turn inside the caller's transaction; at the first refused one, what
    it asks of the data, measured. Returns {} when every operation ran."""
    with connection.schema_editor(atomic=False) as editor:
        for operation in migration.operations:
            after = state.clone()
            operation.state_forwards(app, after)
            savepoint = transaction.savepoint()
            try:
                operation.database_forwards(app, editor, state, after)
                for statement in editor.deferred_sql:
                    editor.execute(statement)
                editor.deferred_sql.clear()
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            except DatabaseError as error:
                transaction.savepoint_rollback(savepoint)
                editor.deferred_sql.clear()
                found = requirements_of(operation, app, state, after, editor)
                with connection.cursor() as cursor:
                    measured = [measure(cursor, requirement).as_dict() for requirement in found]
                return {
                    "failed": True,
                    "operation": operation.describe(),
                    "error": (str(error).strip() or type(error).__name__).splitlines()[0],
                    "requirements": measured,
                }
            transaction.savepoint_commit(savepoint)
            state = after
    return {}
