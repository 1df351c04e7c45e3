from django.apps import AppConfig


class CommandsConfig(AppConfig):
    name = "webui.commands"
    label = "commands"
    verbose_name = "Lab commands"
    default_auto_field = "django.db.models.BigAutoField"
