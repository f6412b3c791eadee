"""manage.py backup [-o FILE]: one consistent archive of the database and the data directory."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, make_backup


class Command(BaseCommand):
    help = "Back up the database (SQLite backup API or pg_dump) and KC_DATA_DIR's state."

    def add_arguments(self, parser):
        parser.add_argument(
            "-o",
            "--output",
            help="the archive to write (default: KC_DATA_DIR/backups/kernelcamp-<time>.tar.gz)",
        )

    def handle(self, *args, output: str | None = None, **options):
        if output is None:
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
            output = str(Path(settings.DATA_DIR) / "backups" / f"kernelcamp-{stamp}.tar.gz")
        try:
            manifest = make_backup(Path(output))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Wrote {output} ({manifest['engine']} database, {len(manifest['data_files'])} data files)"
        )
