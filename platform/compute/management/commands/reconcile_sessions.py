"""Reconcile the session ledger with the hub once, or every N seconds (the periodic task)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from compute.tasks import reconcile_sessions


class Command(BaseCommand):
    help = "Meter running servers, adopt/close what the hub reports, stop over-budget servers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="repeat every N seconds")
        parser.add_argument("--enqueue", action="store_true", help="queue it for a task worker")

    def handle(self, *args, **options) -> None:
        while True:
            try:
                if options["enqueue"]:
                    reconcile_sessions.enqueue()
                else:
                    self.stdout.write(str(reconcile_sessions.call()))
            except Exception as exc:
                if not options["every"]:
                    raise
                # A periodic reconciler outlives a hub that is starting, restarting or erring:
                # the next round tries again.
                self.stderr.write(f"reconcile failed, retrying in {options['every']:g} s: {exc}")
            finally:
                close_old_connections()
            if not options["every"]:
                return
            time.sleep(options["every"])
