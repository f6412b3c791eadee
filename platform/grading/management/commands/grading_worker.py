"""A grading worker: django-tasks-db's db_worker plus recovery of work that a dead worker left.

db_worker alone never runs a task again once its worker died mid-task; submissions hold a lease
instead, and this command re-queues those whose lease ran out, at start and then periodically.
"""

from django.core.management.base import BaseCommand

from grading.services_recovery import recover_interrupted_grading
from kernelcamp.workers import run_db_worker_with_recovery


class Command(BaseCommand):
    help = "Run a grading worker (queues: grading, default) that also recovers interrupted grading."

    def add_arguments(self, parser):
        parser.add_argument(
            "--queues", default="grading,default", help="comma-separated queue names"
        )
        parser.add_argument(
            "--interval", type=float, default=0.2, help="seconds between queue polls"
        )
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        parser.add_argument(
            "--reload",
            action="store_true",
            help="restart on code changes (off by default, even with KC_DEBUG: a restart abandons "
            "the notebook being graded until its lease runs out)",
        )

    def handle(
        self, *args, queues: str, interval: float, batch: bool, reload: bool = False, **options
    ):
        run_db_worker_with_recovery(
            recover_interrupted_grading,
            sweep_name="grading-recovery",
            report_error=self.stderr.write,
            queue_name=queues,
            interval=interval,
            batch=batch,
            reload=reload and not batch,
            verbosity=options.get("verbosity", 1),
        )
