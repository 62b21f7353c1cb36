"""Our migration history gives, at each step, the schema real Mole had there.

`../shared/real-mole/schemas/schema_000k.sql` is `pg_dump --schema-only` of real Mole with
data_collection at its k-th migration (automation's 0001 arrived with data_collection 0007,
its 0002 with 0009). One scratch database follows our history along the same path; at each
step the two schemas are compared by structure and by name, and every difference must be one
that `schema.django_drift` lists (what Django 3.2 and 5.2 do differently), nothing else.
"""
from __future__ import annotations

from conftest import REPO
from test_untrusted_dumps import backend_of

from schema.compare import compare
from schema.compare import compare_names
from schema.django_drift import drift_kind
from tooling.legacy.dump_loading import load_dump
from tooling.legacy.inputs import detect
from tooling.server.database_facts import schema_snapshot
from tooling.server.django_commands import migrate

REAL_SCHEMAS = REPO.parent / "shared" / "real-mole" / "schemas"
# Real Mole's release path (its README): data_collection k, and automation from 0007 and 0009 on.
DATA_COLLECTION = ["0001_initial", "0002_pose_trial", "0003_region", "0004_clock", "0005_entity_event_role",
                   "0006_pose_speed", "0007_scenario_scripts", "0008_entity_state",
                   "0009_update_jsonfield_import", "0010_create_metadata_keys_values"]
AUTOMATION_FROM = {7: "0001_initial", 9: "0002_alter_scriptedevent_add_event_metadata"}
# The apps besides Mole's whose tables a real Mole database has (its README).
DJANGO_APPS = ["contenttypes", "auth", "sessions", "sites", "easy_thumbnails"]
# Real Mole does not install django.contrib.admin; we do.
OURS_ONLY = {"django_admin_log"}


def automation_at(k: int) -> str | None:
    """Where real Mole's automation app stood when data_collection was at its k-th migration."""
    arrived = [name for start, name in sorted(AUTOMATION_FROM.items()) if start <= k]
    return arrived[-1] if arrived else None


def test_every_step_of_our_history_has_real_moles_schema(project):
    assert sorted(path.name for path in REAL_SCHEMAS.glob("schema_*.sql")) == [
        f"schema_{k:04d}.sql" for k in range(1, 11)
    ], f"real Mole's schemas belong in {REAL_SCHEMAS} (the shared folder beside the repository)"
    backend = backend_of(project)
    unexplained = {}
    tolerated = {}
    with backend.django_session(), backend.admin.scratch_database("ours") as ours:
        for app in DJANGO_APPS:  # at their heads, as in real Mole's databases
            migrate(backend, ours, app)
        for k, name in enumerate(DATA_COLLECTION, start=1):
            migrate(backend, ours, f"data_collection.{name}")
            if automation_at(k):
                migrate(backend, ours, f"automation.{automation_at(k)}")
            actual = schema_snapshot(backend, ours)
            with backend.admin.scratch_database("real") as real:
                load_dump(backend, detect(REAL_SCHEMAS / f"schema_{k:04d}.sql"), real)
                expected = schema_snapshot(backend, real)
            actual = actual.only(lambda table: table not in OURS_ONLY)
            found = compare(expected, actual) + compare_names(expected, actual)
            unexplained[k] = [d.describe() for d in found if drift_kind(d) is None]
            tolerated[k] = {drift_kind(d).name for d in found if drift_kind(d)}
    assert unexplained == {k: [] for k in range(1, 11)}
    # The drift is there to see (keys are serial in real Mole): the test compares something.
    assert all("serial key versus identity key" in kinds for kinds in tolerated.values())
