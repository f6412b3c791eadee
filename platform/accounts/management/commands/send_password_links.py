"""Mail set-password links to people who have no password yet, and print the links.

For accounts made outside the CSV import (the admin, another script), and to send again after
links expired: `manage.py send_password_links --cohort 3`, or name people by email or username.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from accounts.services import needs_password, send_set_password_links, site_url


class Command(BaseCommand):
    help = "Mail (and print) set-password links to accounts that have no password yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("people", nargs="*", help="email addresses or usernames")
        parser.add_argument("--cohort", type=int, help="everyone in this cohort (its id)")
        parser.add_argument(
            "--include-passwords",
            action="store_true",
            help="also people who have a password (the link then resets it)",
        )

    def handle(self, *args, people: list[str], cohort: int | None, **options) -> None:
        users = get_user_model().objects.filter(is_active=True)
        if cohort is None and not people:
            raise CommandError("name people, or a cohort with --cohort")
        if cohort is not None:
            users = users.filter(enrolments__cohort_id=cohort)
        if people:
            query = Q()
            for who in people:
                query |= Q(email__iexact=who) | Q(username=who)
            users = users.filter(query)
        chosen = [
            u
            for u in users.distinct().order_by("username")
            if options["include_passwords"] or needs_password(u)
        ]
        for link in send_set_password_links(chosen, site_url()):
            sent = "mailed" if link.mailed else "NOT mailed"
            self.stdout.write(f"{link.user.get_username()}\t{link.user.email}\t{sent}\t{link.url}")
        self.stderr.write(f"{len(chosen)} link(s)")
