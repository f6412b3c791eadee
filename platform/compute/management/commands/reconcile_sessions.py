"""Reconcile the session ledger with the hub once, or every N seconds (the periodic task)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from compute.tasks import reconcile_sessions


class Command(BaseCommand):
    help = "Meter running servers, adopt/close what the hub reports, stop over-budget servers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="repeat every N seconds")
        parser.add_argument("--enqueue", action="store_true", help="queue it for a task worker")

    def handle(self, *args, **options) -> None:
        while True:
            if options["enqueue"]:
                reconcile_sessions.enqueue()
            else:
                self.stdout.write(str(reconcile_sessions.call()))
            if not options["every"]:
                return
            time.sleep(options["every"])
