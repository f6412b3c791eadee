from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpqueueConfig(AppConfig):
    name = "helpqueue"
    verbose_name = _("Help queue")

    def ready(self) -> None:
        from helpqueue import permissions  # noqa: F401  registers the rules with accounts.permissions
