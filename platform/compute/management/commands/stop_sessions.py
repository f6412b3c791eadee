"""Stop every running session through the hub and close its ledger row.

`scripts/run.sh` runs it on Ctrl-C, before it stops the hub: the hub is configured to leave
servers running across its own restarts, so a demo that stops must stop them itself, and the
ledger must end each session at that moment rather than when a later reconcile notices.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from compute import services
from compute.backends import HubUnavailable, get_backend
from compute.models import HubSession


class Command(BaseCommand):
    help = "Stop all running sessions (hub servers) and close their ledger rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wait", type=float, default=30, help="seconds to wait for the servers to go"
        )

    def handle(self, *args, wait: float, **options) -> None:
        backend = get_backend()
        if not backend.configured():
            return
        for session in HubSession.objects.filter(status__in=HubSession.ACTIVE):
            try:
                services.stop(session, reason="shutdown")
                self.stdout.write(f"stopped the session of {session.user}")
            except services.SessionError as exc:
                self.stderr.write(f"could not stop the session of {session.user}: {exc}")
        deadline = time.monotonic() + wait
        try:
            while backend.running() and time.monotonic() < deadline:
                time.sleep(0.5)
        except HubUnavailable:
            pass
