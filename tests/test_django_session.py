"""One Django process serves a run's manage.py commands, database by database, as separate runs would."""
from __future__ import annotations

import json

import pytest
from test_untrusted_dumps import backend_of

from tooling.errors import CommandFailed
from tooling.server.database_facts import migration_state
from tooling.server.django_commands import migrate


def test_a_session_runs_each_command_against_its_own_database_and_survives_a_failure(project):
    backend = backend_of(project)
    with backend.admin.scratch_database("a") as first, backend.admin.scratch_database("b") as second:
        with backend.django_session():
            session = backend.session
            migrate(backend, first, "data_collection.0002_pose_trial")
            migrate(backend, second, "data_collection.0004_clock")
            applied = {name: migration_state(backend, name)["applied"] for name in (first, second)}
            with pytest.raises(CommandFailed, match="Cannot find a migration matching '0099_nothing'"):
                migrate(backend, first, "data_collection.0099_nothing")
            # The session answers after a failed command, and it is the same process.
            fake = backend.manage(["migrate", "--no-input", "--fake", "data_collection", "0003_region"],
                                  database=first, capture=True)
            assert backend.session is session and session.process.poll() is None
        assert backend.session is None and session.process.returncode == 0
    assert "data_collection.0002_pose_trial" in applied[first]
    assert "data_collection.0003_region" not in applied[first]
    assert "data_collection.0004_clock" in applied[second]
    assert "FAKED" in fake.stdout


def test_a_command_exit_status_and_output_arrive_as_a_process_would_give_them(project):
    backend = backend_of(project)
    with backend.admin.scratch_database("empty") as empty, backend.django_session():
        state = backend.manage(["migration_state"], database=empty, capture=True)
        unknown = backend.manage(["no_such_command"], database=empty, capture=True, check=False)
    assert json.loads(state.stdout)["applied"] == []
    assert unknown.returncode == 1 and "Unknown command: 'no_such_command'" in unknown.stderr


def test_a_session_that_dies_is_a_clear_error_and_is_not_reused(project):
    backend = backend_of(project)
    with backend.admin.scratch_database("empty") as empty:
        with pytest.raises(CommandFailed, match="serve_commands"):
            with backend.django_session():
                backend.session.process.kill()
                migration_state(backend, empty)
        assert backend.session is None
        assert migration_state(backend, empty)["applied"] == []
