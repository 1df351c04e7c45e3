"""Django app config for the dashboard pages."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Pages only: the data comes from the REST API and the WebSocket of the other apps."""

    name = "webui.dashboard"
    label = "dashboard"
    verbose_name = "nsmap dashboard"
