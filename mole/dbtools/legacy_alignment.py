"""The operation every custom (legacy) migration uses.

It aligns exactly one legacy schema, named by its fingerprint, to the schema of
the migration it depends on, and does nothing on any other database, so fresh
installs pass through untouched. It changes the database only: Django's state
is already right. The alignment is recorded in `legacy.alignments`, so that
unapplying it undoes the steps only where they were done.
"""

from __future__ import annotations

from django.db import migrations

from schema.catalog import read_schema
from schema.custom_migration import LEGACY_SCHEMA
from schema.custom_migration import RECORD_TABLE
from schema.custom_migration import Step
from schema.fingerprint import schema_fingerprint

__all__ = ["AlignLegacySchema", "Step", "UnreviewedDraft"]


class UnreviewedDraft(Exception):
    """A drafted legacy migration was about to run before anyone reviewed it."""


class AlignLegacySchema(migrations.RunPython):
    """Run a custom migration's steps on the one legacy schema it handles (by fingerprint);
    a no-op on any other database. Raises UnreviewedDraft for a draft nobody reviewed."""

    def __init__(self, *, fingerprint: str, steps: list[Step], reviewed: bool, name: str) -> None:
        self.fingerprint = fingerprint
        self.steps = steps
        self.reviewed = reviewed
        self.migration_name = name
        super().__init__(self.align, self.unalign, atomic=True)

    def deconstruct(self):
        """Django's serialisation of the operation: its class path and keyword arguments."""
        kwargs = {
            "fingerprint": self.fingerprint,
            "steps": self.steps,
            "reviewed": self.reviewed,
            "name": self.migration_name,
        }
        return (self.__class__.__qualname__, [], kwargs)

    def describe(self):
        """One line for `migrate --plan`: the fingerprint handled and the number of steps."""
        return f"Align the legacy schema {self.fingerprint} ({len(self.steps)} steps)"

    def align(self, apps, schema_editor):
        """Forward: run every step on the legacy schema and record it in legacy.alignments."""
        with schema_editor.connection.cursor() as cursor:
            if schema_fingerprint(read_schema(cursor)) != self.fingerprint:
                return
            if not self.reviewed:
                raise UnreviewedDraft(
                    f"{self.migration_name} is an unreviewed draft: read its REVIEW notes, "
                    "then set REVIEWED = True"
                )
            for step in self.steps:
                run_step(cursor, step.forward)
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {LEGACY_SCHEMA}")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {RECORD_TABLE} (migration text PRIMARY KEY, "
                "fingerprint text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cursor.execute(
                f"INSERT INTO {RECORD_TABLE} (migration, fingerprint) VALUES (%s, %s)",
                [self.migration_name, self.fingerprint],
            )

    def unalign(self, apps, schema_editor):
        """Backward: undo the steps in reverse order, only where `align` recorded running them."""
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [RECORD_TABLE])
            if cursor.fetchone()[0] is None:
                return
            cursor.execute(f"DELETE FROM {RECORD_TABLE} WHERE migration = %s", [self.migration_name])
            if not cursor.rowcount:
                return
            for step in reversed(self.steps):
                run_step(cursor, step.reverse)


def run_step(cursor, sql: str) -> None:
    """Run one step with deferred constraints checked first.

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: after an UPDATE,
    PostgreSQL refuses ALTER TABLE on the table until pending checks have run
    (Django's own schema editor does the same around its ALTERs).
    """
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(sql)
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
