"""The operation every custom (legacy) migration uses.

It aligns exactly one legacy schema, named by its fingerprint, to the schema of
one point of Mole's history (`point`; without one, the migration it depends on),
and does nothing on any other database, so fresh installs pass through untouched.
It changes the database only: Django's state is already right. The alignment is
recorded in `legacy.alignments`, so that unapplying it undoes the steps only where
they were done.

Custom migrations sit at the end of the chain (a single leaf, and databases that
applied the history before one was written stay consistent). An alignment to an
earlier point therefore runs through `manage.py align_legacy` at that point, before
the later migrations; when `migrate` reaches it on the legacy schema instead, every
migration in between was skipped, so it refuses.
"""

from __future__ import annotations

from django.db import DatabaseError
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

from schema.catalog import read_schema
from schema.custom_migration import LEGACY_SCHEMA
from schema.custom_migration import RECORD_TABLE
from schema.custom_migration import Step
from schema.custom_migration import point_migrations
from schema.fingerprint import schema_fingerprint

__all__ = ["AlignLegacySchema", "MisplacedAlignment", "Step", "StepFailed", "UnreviewedDraft"]


class UnreviewedDraft(Exception):
    """A drafted legacy migration was about to run before anyone reviewed it."""


class StepFailed(Exception):
    """PostgreSQL refused one of a custom migration's steps (a placeholder left in, or data the
    step did not expect)."""


class MisplacedAlignment(Exception):
    """An alignment was about to run where it does not belong: the database is past its point, or
    is not the schema it handles."""


class AlignLegacySchema(migrations.RunPython):
    """Run a custom migration's steps on the one legacy schema it handles (by fingerprint);
    a no-op on any other database. Raises UnreviewedDraft for a draft nobody reviewed."""

    def __init__(
        self, *, fingerprint: str, steps: list[Step], reviewed: bool, name: str, point: str | None = None,
        runs_before: str | None = None,
    ) -> None:
        self.fingerprint = fingerprint
        self.steps = steps
        self.reviewed = reviewed
        self.migration_name = name
        self.point = point  # `app.migration[ + app.migration]`, or None: the migration's parent
        # A data fix: the migration (`app.name`) it runs right before, by the tooling only.
        self.runs_before = runs_before
        super().__init__(self.align, self.unalign, atomic=True)

    def deconstruct(self):
        """Django's serialisation of the operation: its class path and keyword arguments."""
        kwargs = {
            "fingerprint": self.fingerprint,
            "steps": self.steps,
            "reviewed": self.reviewed,
            "name": self.migration_name,
        }
        if self.point is not None:
            kwargs["point"] = self.point
        if self.runs_before is not None:
            kwargs["runs_before"] = self.runs_before
        return (self.__class__.__qualname__, [], kwargs)

    def describe(self):
        """One line for `migrate --plan`: the fingerprint handled and the number of steps."""
        return f"Align the legacy schema {self.fingerprint} ({len(self.steps)} steps)"

    def align(self, apps, schema_editor):
        """Forward, as `migrate` runs it: on the legacy schema, every step, recorded in
        legacy.alignments. Raises MisplacedAlignment when the alignment belongs at an earlier
        point than the one the database has recorded (`migrate` skipped the migrations between)."""
        if self.runs_before is not None:
            return  # a data fix runs before its migration, through `manage.py align_legacy`
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            if schema_fingerprint(read_schema(cursor)) != self.fingerprint:
                return
            if self.point is not None:
                past = migrations_past(connection, point_migrations(self.point))
                if past:
                    raise MisplacedAlignment(
                        f"{self.migration_name} aligns the schema at {self.point}, but this database "
                        f"has recorded {len(past)} later migrations as applied without running them on "
                        f"it ({past[0]} first): run `invoke legacy` on the dump instead"
                    )
            self.run_steps(cursor)

    def align_here(self, cursor) -> None:
        """Forward, as `manage.py align_legacy` runs it at the alignment's point (a data fix: right
        before its migration, where the schema is that migration's parent's, so its own checks
        stand in for the fingerprint's). Raises MisplacedAlignment when the database is not the
        legacy schema it handles, UnreviewedDraft for a draft."""
        if self.runs_before is None:
            found = schema_fingerprint(read_schema(cursor))
            if found != self.fingerprint:
                raise MisplacedAlignment(
                    f"{self.migration_name} aligns the schema {self.fingerprint}; this database's is {found}"
                )
        self.run_steps(cursor)

    def run_steps(self, cursor) -> None:
        """Every step, then the record in legacy.alignments. Raises UnreviewedDraft for a draft."""
        if not self.reviewed:
            raise UnreviewedDraft(
                f"{self.migration_name} is an unreviewed draft: read its REVIEW notes, "
                "then set REVIEWED = True"
            )
        for number, step in enumerate(self.steps, 1):
            try:
                run_step(cursor, step.forward)
            except DatabaseError as error:
                first_line = (str(error).strip() or type(error).__name__).splitlines()[0]
                raise StepFailed(  # PostgreSQL's words first: error lines are shown cut to length
                    f"{self.migration_name}, step {number} of {len(self.steps)} failed: {first_line} "
                    f"(the step: {step.description})"
                ) from error
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


def migrations_past(connection, point: dict[str, str]) -> list[str]:
    """The migrations (`app.name`) recorded as applied after `point` in its apps, custom ones left
    out (they only align), and those of the point that are not recorded."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    past = [f"{app}.{name} (not recorded)" for app, name in point.items()
            if (app, name) not in loader.applied_migrations]
    for app, name in sorted(loader.applied_migrations):
        if app in point and name > point[app] and not is_alignment(loader.disk_migrations.get((app, name))):
            past.append(f"{app}.{name}")
    return past


def is_alignment(migration) -> bool:
    """Whether a loaded migration is a custom (legacy) one."""
    return migration is not None and any(isinstance(op, AlignLegacySchema) for op in migration.operations)


def run_step(cursor, sql: str) -> None:
    """Run one step with deferred constraints checked first.

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: after an UPDATE,
    PostgreSQL refuses ALTER TABLE on the table until pending checks have run
    (Django's own schema editor does the same around its ALTERs).
    """
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(sql)
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
