"""App config for webui.changelog."""

from django.apps import AppConfig


class ChangelogConfig(AppConfig):
    name = "webui.changelog"
    label = "changelog"
