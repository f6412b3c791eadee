"""manage.py apply_retention: delete what is past the retention settings (run it daily)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from privacy.retention import apply_retention


class Command(BaseCommand):
    help = "Delete old superseded submissions and clear old session logs (KC_RETENTION_*)."

    def add_arguments(self, parser):
        parser.add_argument("--submission-days", type=float, help="override the setting")
        parser.add_argument("--session-log-days", type=float, help="override the setting")
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, **options):
        report = apply_retention(
            submission_days=options["submission_days"],
            session_log_days=options["session_log_days"],
            dry_run=options["dry_run"],
        )
        verb = "would delete or clear" if options["dry_run"] else "deleted or cleared"
        details = ", ".join(f"{key} {value}" for key, value in report.as_dict().items())
        self.stdout.write(f"Retention {verb}: {details}")
