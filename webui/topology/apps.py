"""App config for webui.topology."""

from django.apps import AppConfig


class TopologyConfig(AppConfig):
    name = "webui.topology"
    label = "topology"
