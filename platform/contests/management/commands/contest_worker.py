"""A scoring worker for challenge entries: django-tasks-db's db_worker on the `contests` queue,
plus recovery of runs a dead worker left (as `grading_worker` does for notebooks)."""

import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from contests.queue import QUEUE_NAME, recover


class Command(BaseCommand):
    help = "Run a scoring worker for challenge entries (queue: contests), fair across events."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between polls")
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")

    def handle(self, *args, interval: float, batch: bool, **options):
        stop = threading.Event()

        def sweep() -> None:
            while not stop.wait(settings.KC_GRADING_SWEEP_SECONDS):
                try:
                    recover()
                except Exception as exc:  # a sweep failure must not stop scoring
                    self.stderr.write(f"recovery sweep failed: {exc}")
                finally:
                    close_old_connections()

        recover()
        sweeper = threading.Thread(target=sweep, name="contests-recovery", daemon=True)
        sweeper.start()
        try:
            call_command(
                "db_worker",
                queue_name=QUEUE_NAME,
                interval=interval,
                batch=batch,
                reload=False,
                startup_delay=False,
                verbosity=options.get("verbosity", 1),
            )
        finally:
            stop.set()
