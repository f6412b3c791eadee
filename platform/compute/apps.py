from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class ComputeConfig(AppConfig):
    name = "compute"
    verbose_name = _("GPU sessions")

    def ready(self) -> None:
        from compute import (
            permissions,  # noqa: F401  registers the rules with accounts.permissions
            signals,  # noqa: F401 - connects the logout hook
        )
        from compute.oidc import load_or_create_rsa_key

        provider = getattr(settings, "OAUTH2_PROVIDER", None)
        if isinstance(provider, dict) and not provider.get("OIDC_RSA_PRIVATE_KEY"):
            # RS256 signing key of the ID tokens: kept in the data dir, created on first start.
            provider["OIDC_RSA_PRIVATE_KEY"] = load_or_create_rsa_key(
                Path(settings.DATA_DIR) / "oidc-rsa-key.pem"
            )
