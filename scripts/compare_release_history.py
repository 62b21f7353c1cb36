"""Compare our migration history with real Mole's release history, one step at a time.

For each k in 1..10, database A holds real Mole's schema with data_collection at migration k
(`schema_000k.sql`, a pg_dump of real Mole; see ../shared/real-mole/README.md) and database B
ours migrated to the same point: data_collection 000k, automation where real Mole had it then
(0001 from data_collection 0007, 0002 from 0009), Django's own apps at their heads. Both are read
from the catalogs and compared by structure (`schema.compare`), over the tables real Mole has
(so not our django_admin_log, nor tables that PostGIS's extensions own). Constraint and index
names are compared apart: Django versions name the same structure differently.

Needs a scratch server whose user may create databases, given as a libpq URL:
    .venv/bin/python scripts/compare_release_history.py --url 'postgresql:///postgres?host=/tmp/sock'
Exits 1 when a difference is left that is not Django-version drift.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from schema.catalog import read_schema
from schema.compare import compare
from schema.compare import compare_names
from schema.differences import Difference
from schema.differences import DifferenceKind
from schema.model import Column
from schema.model import Identity
from schema.model import Schema
from schema.quoting import identifier
from tooling.process import ProcessRunner
from tooling.server.backends import UrlBackend
from tooling.server.postgres_tools import PSQL

PROJECT = Path(__file__).resolve().parent.parent
REAL_MOLE_SCHEMAS = PROJECT.parent / "shared" / "real-mole" / "schemas"
# The extensions of the postgis/postgis image real Mole runs on, in an order that satisfies
# their own dependencies (the geocoder needs postgis and fuzzystrmatch).
EXTENSIONS = ("postgis", "postgis_topology", "fuzzystrmatch", "postgis_tiger_geocoder")
# Where real Mole's automation app stood: from data_collection migration k on (README's table).
AUTOMATION_FROM = {7: "0001_initial", 9: "0002_alter_scriptedevent_add_event_metadata"}
OUR_APPS = ("data_collection", "automation")
# pg_dump writes each ownership change on a line of its own; the owner (mole_user) is not ours.
OWNERSHIP = re.compile(rb"^ALTER .* OWNER TO [^;]+;$")
EXTENSION_TABLES = """
SELECT c.relname FROM pg_depend d
JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e' AND n.nspname = %(schema)s
"""


@dataclass(frozen=True)
class Step:
    """Real Mole with data_collection at its k-th migration."""

    k: int
    data_collection: str
    automation: str | None
    reference: Path  # real Mole's schema_000k.sql


@dataclass(frozen=True)
class Outcome:
    """What one step's comparison found: differences in structure (`drift` holds those that only
    Django's version explains), in names only, and in column order."""

    step: Step
    differences: list[Difference]
    names: list[Difference]
    drift: set[Difference]
    column_orders: list[str]


def release_steps(schemas: Path) -> list[Step]:
    """One step per data_collection migration of ours, in order; `schemas` holds real Mole's dumps."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(connection, ignore_no_migrations=True).graph
    (leaf,) = graph.leaf_nodes("data_collection")
    names = [name for app, name in graph.forwards_plan(leaf) if app == "data_collection"]
    steps = []
    for k, name in enumerate(names, start=1):
        automation = [target for start, target in sorted(AUTOMATION_FROM.items()) if start <= k]
        steps.append(Step(k, name, automation[-1] if automation else None, schemas / f"schema_{k:04d}.sql"))
    return steps


@contextmanager
def using_database(name: str) -> Iterator[None]:
    """Point Django's connection at database `name` for the block (one server, many databases)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()


def load_reference(backend: UrlBackend, step: Step, database: str) -> None:
    """Load real Mole's schema dump into `database` with psql, in one transaction, without its
    ownership changes. (The tooling's own `load_dump` refuses these dumps: it creates the
    extensions first, and then the dump's own CREATE SCHEMA tiger_data fails.)"""
    with step.reference.open("rb") as dump:
        lines = (line for line in dump if not OWNERSHIP.match(line.rstrip(b"\n")))
        backend.tools.run("psql", [*PSQL, "--single-transaction", f"--dbname={database}"],
                          stdin_chunks=lines, stdin_path=step.reference, capture=True)


def catalog_schema() -> tuple[Schema, set[str]]:
    """The public schema of the current database, and the tables its extensions own."""
    from django.db import connection

    with connection.cursor() as cursor:
        schema = read_schema(cursor, "public")
        cursor.execute(EXTENSION_TABLES, {"schema": "public"})
        return schema, {name for (name,) in cursor.fetchall()}


def migrate_like_real_mole(step: Step) -> None:
    """Our apps to where real Mole had them at `step`, every other app to its head, in-process."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in OUR_APPS]
    targets.append(("data_collection", step.data_collection))
    if step.automation:
        targets.append(("automation", step.automation))
    executor.migrate(targets)


def compare_step(backend: UrlBackend, step: Step) -> Outcome:
    """Load real Mole's schema of `step` into A, migrate ours into B, compare their public schemas."""
    with backend.admin.scratch_database("real_mole") as reference:
        load_reference(backend, step, reference)
        with using_database(reference):
            expected, owned = catalog_schema()
    with backend.admin.scratch_database("our_mole") as ours:
        extensions = [f"CREATE EXTENSION {identifier(name)}" for name in EXTENSIONS]
        backend.tools.statements(extensions, database=ours)
        with using_database(ours):
            migrate_like_real_mole(step)
            actual, _ = catalog_schema()
    real_mole_tables = set(expected.tables) - owned
    expected = expected.only(real_mole_tables.__contains__)
    actual = actual.only(real_mole_tables.__contains__)
    differences = compare(expected, actual)
    return Outcome(step, differences, compare_names(expected, actual), serial_to_identity(differences),
                   column_orders(expected, actual))


def column_orders(expected: Schema, actual: Schema) -> list[str]:
    """Tables whose columns come in another order: `compare` leaves order out (no migration
    changes it), but `SELECT *` and a COPY without column names see it."""
    differing = []
    for name in sorted(set(expected.tables) & set(actual.tables)):
        want, have = (
            [column.name for column in sorted(table.columns.values(), key=lambda column: column.position)]
            for table in (expected.tables[name], actual.tables[name])
        )
        if want != have and sorted(want) == sorted(have):
            differing.append(f"{name}: expected {', '.join(want)}; found {', '.join(have)}")
    return differing


def serial_to_identity(differences: list[Difference]) -> set[Difference]:
    """The pairs that say a serial column became an identity column: Django 4.1+ makes
    AutoFields `GENERATED BY DEFAULT AS IDENTITY` where 3.2 made `serial`. Only whole pairs count."""
    by_column: dict[tuple[str, str], list[Difference]] = {}
    for difference in differences:
        by_column.setdefault((difference.table, difference.object), []).append(difference)
    drift: set[Difference] = set()
    for found in by_column.values():
        kinds = {difference.kind: difference for difference in found}
        default = kinds.get(DifferenceKind.COLUMN_DEFAULT)
        identity = kinds.get(DifferenceKind.COLUMN_IDENTITY)
        if (default and identity and default.expected == Column.SERIAL_DEFAULT and default.actual is None
                and identity.expected is None and identity.actual == Identity.BY_DEFAULT.value):
            drift |= {default, identity}
    return drift


def report(outcome: Outcome) -> list[str]:
    """Every difference of one step, each marked as drift or not, then counts by kind."""
    step = outcome.step
    other = [d for d in outcome.differences if d not in outcome.drift]
    lines = [
        f"== k={step.k}: data_collection {step.data_collection}, automation {step.automation or '-'}: "
        f"{len(outcome.differences)} differences ({len(outcome.drift)} serial->identity drift, "
        f"{len(other)} other), {len(outcome.names)} names differing, "
        f"{len(outcome.column_orders)} tables with another column order",
    ]
    lines += [f"  drift: {d.describe()}" for d in outcome.differences if d in outcome.drift]
    lines += [f"  OTHER: {d.describe()}" for d in other]
    lines += [f"  name:  {d.describe()}" for d in outcome.names]
    lines += [f"  order: {table}" for table in outcome.column_orders]
    counts = Counter(d.kind.value for d in [*outcome.differences, *outcome.names])
    lines += [f"  count {kind}: {number}" for kind, number in sorted(counts.items())]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL"),
                        help="libpq URL of a scratch server (default: DATABASE_URL)")
    parser.add_argument("--schemas", type=Path, default=REAL_MOLE_SCHEMAS,
                        help=f"folder of real Mole's schema_000k.sql (default: {REAL_MOLE_SCHEMAS})")
    parser.add_argument("--step", type=int, action="append", help="only this k (repeatable)")
    options = parser.parse_args()
    if not options.url:
        parser.error("give --url (or DATABASE_URL) of a scratch server")
    # Django reads its database from DATABASE_URL; each step points it at a scratch database.
    os.environ["DATABASE_URL"] = options.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mole.settings")
    sys.path.insert(0, str(PROJECT / "mole"))
    import django

    django.setup()
    backend = UrlBackend(ProcessRunner(), "mole", PROJECT / "mole", options.url)
    backend.up()
    left = 0
    for step in release_steps(options.schemas):
        if options.step and step.k not in options.step:
            continue
        outcome = compare_step(backend, step)
        print("\n".join(report(outcome)), flush=True)
        left += len(outcome.differences) - len(outcome.drift)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
