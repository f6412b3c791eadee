"""manage.py erase_user <username> --anonymize | --delete: a person's right to erasure."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from privacy import services


class Command(BaseCommand):
    help = "Anonymize a person (records kept under a pseudonym) or delete them and what they own."

    def add_arguments(self, parser):
        parser.add_argument("username")
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--anonymize", action="store_true")
        mode.add_argument("--delete", action="store_true")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            if options["anonymize"]:
                services.anonymize(user)
                self.stdout.write(f"{username} is now {user.username}, inactive, without identity.")
            else:
                new_name = services.delete(user)
                self.stdout.write(f"{username} deleted (recorded in the audit log as {new_name}).")
        except services.ErasureError as exc:
            raise CommandError(str(exc)) from exc
