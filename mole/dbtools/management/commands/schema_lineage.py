"""Mole's history as schemas: each app's tables after each of its migrations, and the points.

A point of the history is a migration of each of Mole's apps (data_collection, automation),
one that Django could have reached: every migration either one depends on is in it. Real Mole
reached several such points (its automation 0002 arrived with data_collection 0009, neither
first nor last), so every point is listed, not one path. An app's tables depend only on its own
migrations, so a point's schema is the union of its apps' tables at their migrations; each app's
steps come from one migration run in one process (one Django start). Custom (legacy) migrations
are no points: they change no schema, and the tooling runs their steps at the point they name.
"""
import json
from itertools import product

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from dbtools.legacy_alignment import is_alignment
from schema.catalog import read_schema
from schema.fingerprint import MOLE_APPS
from schema.fingerprint import app_of
from schema.model import to_json


class Command(BaseCommand):
    """`manage.py schema_lineage`: on an empty database, JSON `{"steps": {app: [...]}, "points": [...]}`."""

    help = "On an EMPTY database: migrate Mole's apps step by step and print their schemas as JSON."

    def handle(self, *args, **options):
        with connection.cursor() as cursor:
            if read_schema(cursor).tables:
                raise CommandError("schema_lineage needs an empty database: it migrates it")
        graph = MigrationLoader(connection).graph
        plans = {app: app_plan(graph, app) for app in MOLE_APPS}
        customs = {node for node in graph.nodes if is_alignment(graph.nodes[node])}
        steps = {app: [] for app in MOLE_APPS}
        for app, name in joint_plan(graph, customs):
            call_command("migrate", app, name, verbosity=0, interactive=False)
            with connection.cursor() as cursor:
                schema = read_schema(cursor).only(lambda table, app=app: app_of(table) == app)
            steps[app].append({"migration": name, "tables": to_json(schema)["tables"]})
        points = [dict(zip(MOLE_APPS, point)) for point in reachable_points(graph, plans, customs)]
        self.stdout.write(json.dumps({"steps": steps, "points": points}, sort_keys=True))


def app_plan(graph, app: str) -> list[str]:
    """`app`'s migrations in order, custom (legacy) ones left out: they change no schema (none when
    it has no migrations)."""
    leaves = graph.leaf_nodes(app)
    if not leaves:
        return []
    return [name for node_app, name in graph.forwards_plan(leaves[0])
            if node_app == app and not is_alignment(graph.nodes[(node_app, name)])]


def joint_plan(graph, customs: set) -> list[tuple[str, str]]:
    """Every migration of Mole's apps once, each after what it depends on; no custom ones."""
    seen: list[tuple[str, str]] = []
    for app in MOLE_APPS:
        for leaf in graph.leaf_nodes(app):
            seen += [node for node in graph.forwards_plan(leaf)
                     if node[0] in MOLE_APPS and node not in seen and node not in customs]
    return seen


def reachable_points(graph, plans: dict[str, list[str]], customs: set) -> list[tuple[str | None, ...]]:
    """Every combination of one migration per app (None: none yet) that holds all it depends
    on, earliest first."""
    points = []
    for point in product(*([None, *plans[app]] for app in MOLE_APPS)):
        at = dict(zip(MOLE_APPS, point))
        needed = {node for app, name in at.items() if name for node in graph.forwards_plan((app, name))
                  if node not in customs}
        if any(point) and all(
            position_of(plans, app, name) <= position_of(plans, app, at[app])
            for app, name in needed if app in at
        ):
            points.append(point)
    return sorted(points, key=lambda point: [position_of(plans, *pair) for pair in zip(MOLE_APPS, point)])


def position_of(plans: dict[str, list[str]], app: str, name: str | None) -> int:
    """Where `name` stands in `app`'s history (-1 for none: before its first)."""
    return plans[app].index(name) if name else -1
