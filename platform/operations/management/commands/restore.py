"""manage.py restore FILE: put a backup onto a fresh install, then bring its schema up to date."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from audit import record
from operations.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` (stop the site and workers first)."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument(
            "--force", action="store_true", help="replace an install that already has data"
        )

    def handle(self, *args, archive: str, force: bool = False, **options):
        try:
            manifest = restore_backup(Path(archive), force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        # A backup from an older release: its migrations run now.
        call_command("migrate", interactive=False, verbosity=0)
        record(
            None, "operations.restore", None, None, {"backup_created_at": manifest["created_at"]}
        )
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} "
            f"({manifest['engine']}, {len(manifest['data_files'])} data files)"
        )
