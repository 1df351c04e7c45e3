"""The nsmap Django project. The Celery app is exported so that `celery -A webui` finds it."""

from webui.celery import app as celery_app

__all__ = ["celery_app"]
