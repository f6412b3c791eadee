"""A scoring worker for challenge entries: django-tasks-db's db_worker on the `contests` queue,
plus recovery of runs a dead worker left (as `grading_worker` does for notebooks)."""

from django.core.management.base import BaseCommand

from contests.queue import QUEUE_NAME, recover
from kernelcamp.workers import run_db_worker_with_recovery


class Command(BaseCommand):
    help = "Run a scoring worker for challenge entries (queue: contests), fair across events."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between polls")
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")

    def handle(self, *args, interval: float, batch: bool, **options):
        run_db_worker_with_recovery(
            recover,
            sweep_name="contests-recovery",
            report_error=self.stderr.write,
            queue_name=QUEUE_NAME,
            interval=interval,
            batch=batch,
            reload=False,
            verbosity=options.get("verbosity", 1),
        )
