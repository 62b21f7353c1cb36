"""The daily database tasks: server up and down, migrations, verification."""
from __future__ import annotations

import sys
from pathlib import Path

from invoke import Exit
from invoke import task

from schema.fingerprint import MOLE_APPS

from .common import BACKEND_HELP
from .common import backend_of
from .common import clear_debris
from .common import refuses_dry
from .common import reports_errors
from .common import settings_of

__all__ = ["up", "down", "status", "makemigrations", "migrate", "verify"]

EXIT_NOT_COMPLIANT = 1


@task(help={"backend": BACKEND_HELP})
@reports_errors
def up(c, backend=None):
    """Start the database (local server, or the Compose stack) and create the live database."""
    chosen = backend_of(c, backend, ready=False)
    chosen.up()
    for repaired in chosen.ensure_ready():
        print(f"note: {repaired}", file=sys.stderr)
    clear_debris(c, chosen)
    print(f"Up: {chosen.describe()}, database {chosen.database!r}.")


@task(help={"backend": BACKEND_HELP})
@reports_errors
def down(c, backend=None):
    """Stop what `up` started (the local server, or the Compose stack). Data is kept."""
    chosen = backend_of(c, backend, ready=False)
    chosen.down()
    print(f"Down: {chosen.describe()}.")


@task(help={"backend": BACKEND_HELP})
@reports_errors
@refuses_dry
def status(c, backend=None):
    """Show the backend, server version, open copies, database, migration head and unapplied migrations."""
    from tooling.opening.opened_copy import kept_copies
    from tooling.server.database_facts import migration_state
    from tooling.server.database_facts import mole_head

    chosen = backend_of(c, backend, ready=False)
    print(f"backend:    {chosen.describe()}")
    if not chosen.is_available():
        if chosen.name == "url":
            chosen.up()  # not ours to start: says why it cannot be used (no server, a refused login)
        print("server:     not running (start it with `invoke up`)")
        show_debris(clear_debris(c))
        return
    print(f"server:     PostgreSQL {chosen.tools.server_version()}")
    if chosen.name == "local":
        env = chosen.client_environment()
        psql = chosen.client_command("psql", []).argv[0]
        print(f"psql:       {psql} -h {env['PGHOST']} -U {env['PGUSER']} -d {chosen.database}")
    repaired = chosen.admin.repair_interrupted_swap(chosen.database)
    if repaired:
        print(f"repaired:   {repaired}")
    show_debris(clear_debris(c, chosen))
    for database, what in kept_copies(chosen):
        print(f"open copy:  {database} ({what}; `--drop-copy` drops it)")
    if not chosen.admin.database_exists(chosen.database):
        print(f"database:   {chosen.database} (does not exist yet: `invoke migrate` creates it)")
        return
    print(f"database:   {chosen.database}")
    state = migration_state(chosen)
    print(f"head:       {mole_head(state) or 'none applied'}")
    print(f"applied:    {len(state['applied'])} migrations")
    print(f"unapplied:  {len(state['unapplied'])}" + "".join(f"\n  - {name}" for name in state["unapplied"]))


def show_debris(cleanup) -> None:
    """One `debris:` line per leftover the clean-up found, removed or kept."""
    for item in cleanup.removed:
        print(f"debris:     {item.describe()}: removed")
    for item in cleanup.kept:
        print(f"debris:     {item.describe()}")


@task(
    help={
        "name": "Name for the new migration (as makemigrations --name).",
        "check": "Only check: exit non-zero when models changed without a migration (the CI gate).",
        "backend": BACKEND_HELP,
    }
)
@reports_errors
def makemigrations(c, name=None, check=False, backend=None):
    """Write a migration for model changes of Mole's apps (inside the django container when Compose runs)."""
    args = ["makemigrations", *MOLE_APPS, "--no-input"]
    if name:
        args += ["--name", name]
    if check:
        args += ["--check", "--dry-run"]
    chosen = backend_of(c, backend)
    result = chosen.manage(args, check=False)
    if result.returncode != 0:
        raise Exit("error: models changed without a migration: run `invoke makemigrations`"
                   if check else "error: makemigrations failed", code=result.returncode)


@task(
    help={
        "app": "Only this app (e.g. data_collection).",
        "target": "Migrate to this migration of --app (e.g. 0004 or zero).",
        "fake": "Mark as applied without running the SQL.",
        "plan": "Show what would be applied, change nothing.",
        "backend": BACKEND_HELP,
    }
)
@reports_errors
def migrate(c, app=None, target=None, fake=False, plan=False, backend=None):
    """Apply migrations to the live database."""
    if target and not app:
        raise Exit("error: --target needs --app", code=2)
    from tooling.server.django_commands import migrate_args

    backend_of(c, backend).manage(migrate_args(target, app=app, fake=fake, plan=plan))


@task(
    help={
        "database": "Database to verify (default: the live one).",
        "json": "Also write the checks and every difference to this JSON file.",
        "backend": BACKEND_HELP,
    }
)
@reports_errors
@refuses_dry
def verify(c, database=None, json=None, backend=None):
    """Check that the database is compliant: models, migrations, and live schema vs the reference."""
    from tooling.compliance.verification import verify_database

    chosen = backend_of(c, backend)
    report = verify_database(chosen, settings_of(c), database or chosen.database)
    print_checks(report)
    if json:
        report.write_json(Path(json))
        print(f"Wrote {json}")
    if not report.ok:
        count = sum(len(check.problems) for check in report.checks)
        raise Exit(f"verify: {report.database} is not compliant ({count} problems)", code=EXIT_NOT_COMPLIANT)
    print(f"verify: {report.database} is compliant.")


def print_checks(report) -> None:
    """The verification, one line per check and one per problem."""
    for check in report.checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.summary}")
        for problem in check.problems:
            print(f"       - {problem}")
