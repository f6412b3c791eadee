"""manage.py export_user_data <username> -o file.zip: the access archive, for an operator."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from audit import record
from privacy.export import build_archive


class Command(BaseCommand):
    help = "Write everything held about a person as one zip archive."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("-o", "--output", required=True)

    def handle(self, *args, username: str, output: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        Path(output).write_bytes(build_archive(user))
        record(None, "privacy.export", user, None, None, subject=user)
        self.stdout.write(f"Wrote {output}")
