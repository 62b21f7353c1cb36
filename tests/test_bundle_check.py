"""bundle-check tells the truth: checked at the head a bundle was made at, the manifest covered
by its own checksum, and nothing claimed in a dry run."""

from __future__ import annotations

import json

from conftest import NEXT_NUMBER
from conftest import with_bundle
from test_tasks_local import MODEL_CHANGE
from test_tasks_local import MODELS_FILE


def test_a_bundle_made_before_todays_head_is_checked_at_its_own_head(project, old_mole_bundle):
    folder = with_bundle(project, old_mole_bundle)
    made_at = json.loads((folder / "manifest.json").read_text())["migration_head"]
    models_file = project.root / MODELS_FILE
    models_file.write_text(models_file.read_text() + MODEL_CHANGE)
    project.invoke("makemigrations", "--name", "soil_sample", check=True)
    result = project.invoke("bundle-check", "--name", "old", check=True)
    assert f"compliant at {made_at}, the head it was made at" in result.stdout
    later = f"data_collection.{NEXT_NUMBER}_soil_sample"
    assert f"Today's head is newer: 1 later migration(s) ({later})" in result.stdout


def test_a_changed_manifest_is_detected(project, old_mole_bundle):
    folder = with_bundle(project, old_mole_bundle)
    manifest = folder / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"backend": "local"', '"backend": "other"'))
    result = project.invoke("bundle-check", "--name", "old")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: bundle old was altered: manifest.json changed"
    (folder / "manifest.json.sha256").unlink()
    assert "manifest.json.sha256 is missing" in project.invoke("bundle-check", "--name", "old").stderr


def test_a_dry_bundle_check_is_refused_and_claims_nothing(project, old_mole_bundle):
    (with_bundle(project, old_mole_bundle) / "REPORT.md").write_text("altered")
    result = project.invoke("--dry", "bundle-check", "--name", "old")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: --dry is not supported here: `invoke bundle-check`")
    assert "intact" not in result.stdout and "compliant" not in result.stdout
