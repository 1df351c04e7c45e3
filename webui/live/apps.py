"""App config for webui.live."""

from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "webui.live"
    label = "live"
