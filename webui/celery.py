"""The one Celery app of the server, configured from Django settings (the CELERY_ names).

Workers run `celery -A webui worker -Q ingest`; in embedded mode tasks run eagerly in-process
(CELERY_TASK_ALWAYS_EAGER). The agent never imports this module: it sends by task name.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")

app = Celery("webui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["webui.topology", "webui.changelog", "webui.commands"])


@task_prerun.connect
@task_postrun.connect
def recycle_connections(task: Any = None, **_kwargs: Any) -> None:
    """Around every task, what Django does around every request: close a database connection
    that broke or is older than CONN_MAX_AGE, keep the others (settings.CELERY_DB_REUSE_MAX)."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
