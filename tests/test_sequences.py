"""Sequences and identities behind their column's max: `verify` says so, `legacy` sets them past it."""

from __future__ import annotations

from conftest import SAMPLE_POSES
from test_legacy_examples import EXAMPLES

POSE_SEQUENCE = (f"SELECT pg_catalog.setval('public.data_collection_pose_id_seq', {SAMPLE_POSES}, true);"
                 .encode())


def test_verify_reports_a_sequence_behind_its_column(migrated):
    migrated.sql("SELECT setval('data_collection_pose_id_seq', 10, true)")
    result = migrated.invoke("verify")
    assert result.returncode == 1
    assert ("sequence data_collection_pose_id_seq would next give 11, but data_collection_pose.id already "
            f"holds up to {SAMPLE_POSES}") in result.stdout
    migrated.sql(f"SELECT setval('data_collection_pose_id_seq', {SAMPLE_POSES}, true)")
    assert migrated.invoke("verify").returncode == 0


def test_legacy_sets_sequences_past_the_max_and_the_first_insert_after_a_restore_works(migrated, tmp_path):
    data = (EXAMPLES / "old_mole_0005.sql").read_bytes()
    assert POSE_SEQUENCE in data
    source = tmp_path / "behind.sql"
    source.write_bytes(data.replace(POSE_SEQUENCE, POSE_SEQUENCE.replace(str(SAMPLE_POSES).encode(), b"200")))
    migrated.invoke("legacy", "--db", str(source), "--name", "behind", check=True)
    report = (migrated.root / "db_backups" / "bundles" / "behind" / "REPORT.md").read_text()
    assert "- sequence data_collection_pose_id_seq would next give 201, but data_collection_pose.id" in report
    migrated.invoke("restore", "--bundle", "behind", "--yes", check=True)
    migrated.invoke("verify", check=True)
    columns = "entity_id, trial_id, timestamp, point, elevation, heading, speed, velocity, pose_source_id"
    migrated.sql(f"INSERT INTO data_collection_pose ({columns}) "
                 f"SELECT {columns} FROM data_collection_pose LIMIT 1")
    assert migrated.sql("SELECT max(id) FROM data_collection_pose") == [(SAMPLE_POSES + 1,)]
