"""The one Celery app of the server, configured from Django settings (the CELERY_ names).

Workers run `celery -A webui worker -Q ingest`; in embedded mode tasks run eagerly in-process
(CELERY_TASK_ALWAYS_EAGER). The agent never imports this module: it sends by task name.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")

app = Celery("webui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["webui.topology"])
