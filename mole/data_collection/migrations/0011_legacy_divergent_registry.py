"""Align one legacy schema (fingerprint fa0ae50020dae9d3) to data_collection.0010_image_and_pose_coordinate_check.

Drafted by `invoke draft-migration` on 2026-11-28 from divergent_registry.dump
(lineage: matches no migration (fingerprint fa0ae50020dae9d3); nearest is data_collection.0010_image_and_pose_coordinate_check, 5 differences away).
4 steps, 1 marked REVIEW. Read every step, change what a REVIEW
note asks, then set REVIEWED = True. Until then this migration refuses to run on the
legacy database; on every other database it does nothing.
"""
from django.db import migrations

from dbtools.legacy_alignment import AlignLegacySchema
from dbtools.legacy_alignment import Step

LEGACY_FINGERPRINT = "fa0ae50020dae9d3"
# Reviewed: the rename, the jsonb conversion (every value is valid JSON) and keeping the
# calibration rows in the legacy schema are what this example's history calls for.
REVIEWED = True

STEPS = [
    Step(
        'Rename column data_collection_entity.serial_no to serial_number (same type)',
        forward='ALTER TABLE "data_collection_entity" RENAME COLUMN "serial_no" TO "serial_number"',
        reverse='ALTER TABLE "data_collection_entity" RENAME COLUMN "serial_number" TO "serial_no"',
    ),
    # REVIEW: data_collection_calibration holds 2 rows; they are kept in legacy.data_collection_calibration, outside Mole's schema
    Step(
        "Move table data_collection_calibration (2 rows) into the legacy schema: not in today's models",
        forward='CREATE SCHEMA IF NOT EXISTS legacy; ALTER TABLE "data_collection_calibration" SET SCHEMA legacy',
        reverse='ALTER TABLE legacy."data_collection_calibration" SET SCHEMA public',
        review="data_collection_calibration holds 2 rows; they are kept in legacy.data_collection_calibration, outside Mole's schema",
    ),
    Step(
        'Change data_collection_event.metadata from text to jsonb',
        forward='ALTER TABLE "data_collection_event" ALTER COLUMN "metadata" TYPE jsonb USING "metadata"::jsonb',
        reverse='ALTER TABLE "data_collection_event" ALTER COLUMN "metadata" TYPE text USING "metadata"::text',
    ),
    Step(
        'Create index pose_entity_time_idx on data_collection_pose (missing)',
        forward='CREATE INDEX "pose_entity_time_idx" ON "data_collection_pose" USING btree (entity_id, "timestamp")',
        reverse='DROP INDEX "pose_entity_time_idx"',
    ),
]


class Migration(migrations.Migration):
    dependencies = [("data_collection", "0010_image_and_pose_coordinate_check")]

    operations = [
        AlignLegacySchema(
            fingerprint=LEGACY_FINGERPRINT,
            steps=STEPS,
            reviewed=REVIEWED,
            name=__name__.rsplit(".", 1)[-1],
        ),
    ]
