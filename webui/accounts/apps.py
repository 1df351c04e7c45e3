"""App config for webui.accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "webui.accounts"
    label = "accounts"

    def ready(self) -> None:
        from webui.accounts import signals

        signals.connect()
