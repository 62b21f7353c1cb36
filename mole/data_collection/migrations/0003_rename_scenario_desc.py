from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("data_collection", "0002_pose"),
    ]

    operations = [
        migrations.RenameField(model_name="scenario", old_name="desc", new_name="description"),
    ]
