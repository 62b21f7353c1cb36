"""Poses recorded before sources existed came from the vehicles' own GPS: say so."""
from django.db import migrations

LEGACY_SOURCE = "vehicle-gps"


def assign_legacy_source(apps, schema_editor):
    PoseSource = apps.get_model("data_collection", "PoseSource")
    Pose = apps.get_model("data_collection", "Pose")
    if not Pose.objects.filter(pose_source__isnull=True).exists():
        return
    source, _ = PoseSource.objects.get_or_create(
        name=LEGACY_SOURCE, defaults={"description": "Assigned to poses recorded before 0005."}
    )
    Pose.objects.filter(pose_source__isnull=True).update(pose_source=source)


def unassign_legacy_source(apps, schema_editor):
    Pose = apps.get_model("data_collection", "Pose")
    Pose.objects.filter(pose_source__name=LEGACY_SOURCE).update(pose_source=None)


class Migration(migrations.Migration):
    dependencies = [
        ("data_collection", "0005_pose_speed_and_source"),
    ]

    operations = [
        migrations.RunPython(assign_legacy_source, unassign_legacy_source),
    ]
