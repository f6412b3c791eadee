from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContestsConfig(AppConfig):
    name = "contests"
    verbose_name = _("Scored challenges")

    def ready(self) -> None:
        from contests import permissions  # noqa: F401  registers the rules with accounts.permissions
