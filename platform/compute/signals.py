"""Logging out of the site ends hub access: OAuth tokens revoked, hub tokens deleted, server
stopped (the ledger closes)."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

log = logging.getLogger(__name__)


@receiver(user_logged_out)
def end_hub_access(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    from compute.sessions_logout import end_access

    end_access(user)
