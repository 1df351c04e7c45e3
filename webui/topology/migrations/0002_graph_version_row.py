"""The single GraphVersion row that every ingest locks and increments."""

from django.db import migrations


def create_row(apps, schema_editor):
    apps.get_model("topology", "GraphVersion").objects.get_or_create(id=1, defaults={"seq": 0})


class Migration(migrations.Migration):
    dependencies = [("topology", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
