"""Align one legacy schema (fingerprint 868d5ec167db57f5) to data_collection.0010_create_metadata_keys_values.

Drafted by Mole's legacy tooling on 2026-11-30 from divergent_registry.dump
(lineage: matches no migration (fingerprint 868d5ec167db57f5); nearest is data_collection.0010_create_metadata_keys_values + automation.0002_alter_scriptedevent_add_event_metadata, 5 differences away).
4 steps, 1 marked REVIEW. Read every step, change what a REVIEW
note asks, then set REVIEWED = True. Until then this migration refuses to run on the
legacy database; on every other database it does nothing.
"""
from django.db import migrations

from dbtools.legacy_alignment import AlignLegacySchema
from dbtools.legacy_alignment import Step

LEGACY_FINGERPRINT = "868d5ec167db57f5"
# Reviewed: the rename back to physical_id, the jsonb conversion (every value is valid JSON), the
# GiST index on the poses and keeping the calibration rows in the legacy schema are what this
# example's history calls for.
REVIEWED = True
ALIGNS_TO = "data_collection.0010_create_metadata_keys_values + automation.0002_alter_scriptedevent_add_event_metadata"

STEPS = [
    Step(
        'Rename column data_collection_entity.serial_no to physical_id (same type)',
        forward='''ALTER TABLE "data_collection_entity" RENAME COLUMN "serial_no" TO "physical_id"''',
        reverse='''ALTER TABLE "data_collection_entity" RENAME COLUMN "physical_id" TO "serial_no"''',
    ),
    # REVIEW: data_collection_calibration holds 3 rows; they are kept in legacy.data_collection_calibration, outside Mole's schema
    Step(
        "Move table data_collection_calibration (3 rows) into the legacy schema: not in today's models",
        forward='''CREATE SCHEMA IF NOT EXISTS legacy; ALTER TABLE "data_collection_calibration" SET SCHEMA legacy''',
        reverse='''ALTER TABLE legacy."data_collection_calibration" SET SCHEMA public''',
        review="data_collection_calibration holds 3 rows; they are kept in legacy.data_collection_calibration, outside Mole's schema",
    ),
    Step(
        'Change data_collection_event.metadata from text to jsonb',
        forward='''ALTER TABLE "data_collection_event" ALTER COLUMN "metadata" TYPE jsonb USING "metadata"::jsonb''',
        reverse='''ALTER TABLE "data_collection_event" ALTER COLUMN "metadata" TYPE text USING "metadata"::text''',
    ),
    Step(
        'Create index data_collection_pose_point_fd6caf04_id on data_collection_pose (missing)',
        forward='''CREATE INDEX "data_collection_pose_point_fd6caf04_id" ON "data_collection_pose" USING gist (point)''',
        reverse='''DROP INDEX "data_collection_pose_point_fd6caf04_id"''',
    ),
]


class Migration(migrations.Migration):
    dependencies = [("data_collection", "0010_create_metadata_keys_values")]

    operations = [
        AlignLegacySchema(
            fingerprint=LEGACY_FINGERPRINT,
            steps=STEPS,
            reviewed=REVIEWED,
            point=ALIGNS_TO,
            name=__name__.rsplit(".", 1)[-1],
        ),
    ]
