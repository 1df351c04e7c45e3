"""The single GraphVersion row that every ingest locks and increments."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def create_row(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("topology", "GraphVersion").objects.get_or_create(id=1, defaults={"seq": 0})


class Migration(migrations.Migration):
    dependencies = [("topology", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
