"""The compose backend: the exact commands it emits, and a full run through the stand-in docker.

No Docker engine runs on the test machines; `tests/stand_in/docker` executes each
`docker compose exec -T SERVICE CMD...` locally against the local test server.
"""
from __future__ import annotations

import json

from conftest import HEAD
from conftest import REPO
from conftest import SAMPLE_POSES


def docker_calls(project) -> list[list[str]]:
    if not project.docker_log.exists():
        return []
    return [json.loads(line) for line in project.docker_log.read_text().splitlines()]


def compose(project, *args: str) -> list[str]:
    return ["docker", "compose", "-f", str(project.root / "compose" / "docker-compose.yml"), *args]


def test_dry_run_prints_exact_compose_commands(compose_project):
    project = compose_project
    db = project.database
    expectations = {
        ("makemigrations", "--check"): compose(
            project, "exec", "-T", "-e", f"PGDATABASE={db}", "django", "python", "manage.py",
            "makemigrations", "data_collection", "automation", "--no-input", "--check", "--dry-run",
        ),
        ("makemigrations", "--name", "x"): compose(
            project, "exec", "-T", "-e", f"PGDATABASE={db}", "django", "python", "manage.py",
            "makemigrations", "data_collection", "automation", "--no-input", "--name", "x",
        ),
        ("migrate", "--app", "data_collection", "--target", "0003", "--fake"): compose(
            project, "exec", "-T", "-e", f"PGDATABASE={db}", "django", "python", "manage.py",
            "migrate", "--no-input", "data_collection", "0003", "--fake",
        ),
        ("migrate", "--plan"): compose(
            project, "exec", "-T", "-e", f"PGDATABASE={db}", "django", "python", "manage.py",
            "migrate", "--no-input", "--plan",
        ),
        ("up",): compose(project, "up", "-d", "--build"),
        ("down",): compose(project, "down"),
    }
    import shlex

    for args, argv in expectations.items():
        result = project.invoke("--dry", *args, check=True)
        assert shlex.join(argv) in result.stdout.splitlines(), (args, result.stdout)
    backup = project.invoke("--dry", "backup", "--label", "x", check=True).stdout.splitlines()
    dump = compose(
        project, "exec", "-T", "-e", "PGUSER=mole", "postgres", "pg_dump", "--format=custom",
        "--no-owner", "--no-privileges", "--lock-wait-timeout=60s", f"--dbname={db}",
    )
    assert any(line.startswith(shlex.join(dump) + " > ") for line in backup), backup
    # A dry run only probed: nothing ran inside the containers.
    assert not any("exec" in call for call in docker_calls(project))


def test_compose_v1_is_used_when_v2_is_missing(compose_project, tmp_path):
    """With only `docker-compose` on PATH, commands start with it."""
    import os
    import shutil

    v1_dir = tmp_path / "v1"
    v1_dir.mkdir()
    wrapper = v1_dir / "docker-compose"
    real = shutil.which("docker", path=compose_project.env["PATH"])
    wrapper.write_text(f'#!/bin/sh\nexec "{real}" compose "$@"\n')
    wrapper.chmod(0o755)
    path_without_docker = os.pathsep.join(
        part
        for part in compose_project.env["PATH"].split(os.pathsep)
        if not os.path.isfile(os.path.join(part, "docker"))
    )
    result = compose_project.invoke(
        "--dry", "migrate", extra_env={"PATH": f"{v1_dir}{os.pathsep}{path_without_docker}"}, check=True
    )
    assert result.stdout.startswith("docker-compose -f ")


def test_end_to_end_through_the_stand_in(compose_project):
    project = compose_project
    assert project.invoke("makemigrations", "--check").returncode == 0
    project.invoke("migrate", check=True)
    project.invoke("sample-data", check=True)
    project.invoke("backup", "--label", "compose", check=True)
    [dump] = project.backups.glob("*_compose.dump")
    manifest = json.loads(dump.with_suffix(".json").read_text())
    assert manifest["backend"] == "compose"
    assert manifest["migration_head"] == HEAD
    verify = project.invoke("verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    project.sql("TRUNCATE data_collection_pose CASCADE")  # events point at their start poses
    project.invoke("restore", "--backup", dump.stem, "--yes", check=True)
    assert project.sql("SELECT count(*) FROM data_collection_pose")[0][0] == SAMPLE_POSES

    calls = docker_calls(project)
    execs = [call for call in calls if "exec" in call]
    assert execs and all(call[call.index("exec") + 1] == "-T" for call in execs)
    services = {call[call.index("exec") + 4] for call in execs}
    assert services == {"django", "postgres"}
    tools = {call[call.index("postgres") + 1] for call in execs if "postgres" in call}
    assert {"psql", "pg_dump", "pg_restore"} <= tools


def test_verify_through_the_stand_in_catches_a_dropped_index(compose_project):
    project = compose_project
    project.invoke("migrate", check=True)
    project.sql("DROP INDEX data_collection_pose_point_fd6caf04_id")
    result = project.invoke("verify")
    assert result.returncode == 1
    assert "index missing: data_collection_pose_point_fd6caf04_id" in result.stdout


def test_legacy_pipeline_through_the_stand_in(compose_project):
    """The dump streams through `exec -T postgres pg_restore --file=-` into psql as the load role;
    migrations run in the django service."""
    project = compose_project
    dump = REPO / "examples" / "legacy" / "divergent_registry.dump"
    result = project.invoke("legacy", "--db", str(dump), "--name", "via-compose")
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((project.root / "db_backups/bundles/via-compose/manifest.json").read_text())
    assert manifest["backend"] == "compose" and manifest["verification"]["ok"] is True
    calls = docker_calls(project)
    assert any(call[call.index("postgres") + 1:call.index("postgres") + 5] == [
        "pg_restore", "--no-owner", "--no-privileges", "--file=-"]
        for call in calls if "postgres" in call)
    # The script, then the plain indexes it held back (held_indexes.py): each as the one load role.
    loads = [call for call in calls if "psql" in call and "--single-transaction" in call]
    users = {call[call.index("-e") + 1] for call in loads}
    assert len(loads) >= 2 and len(users) == 1 and users.pop().startswith("PGUSER=mole_load_")
    # Every Django step of the run (snapshots, migration state, migrate, checks) in one exec.
    django_execs = [call for call in calls if "exec" in call and "django" in call]
    assert django_execs == [compose(
        project, "exec", "-T", "-e", f"PGDATABASE={project.database}", "django", "python", "manage.py",
        "serve_commands")]
    assert manifest["custom_migration"] == "data_collection.0011_legacy_divergent_registry"
    check = project.invoke("bundle-check", "--name", "via-compose")
    assert check.returncode == 0, check.stdout + check.stderr
