from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from contests.publishing import PublishError, available_challenge_slugs, publish_challenge
from events.models import Event


class Command(BaseCommand):
    help = (
        "Check challenges/<slug> with the grader's manifest reader and publish it to an event "
        "(a new version only when its content changed; the baseline entry is queued)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="challenge slugs (default: none)")
        parser.add_argument("--event", required=True, help="the event's slug")
        parser.add_argument("--all", action="store_true", help="every folder in challenges/")

    def handle(self, *args, **options):
        event = Event.objects.filter(slug=options["event"]).first()
        if event is None:
            raise CommandError(_("No event %(slug)s.") % {"slug": options["event"]})
        slugs = options["slugs"] or (available_challenge_slugs() if options["all"] else [])
        if not slugs:
            raise CommandError(_("Name a challenge to publish, or pass --all."))
        failed = False
        for slug in slugs:
            try:
                result = publish_challenge(slug, event)
            except PublishError as exc:
                self.stderr.write(self.style.ERROR(str(exc)))
                failed = True
                continue
            if result.changed:
                msg = _("Published %(slug)s to %(event)s, version %(n)d.")
            else:
                msg = _("%(slug)s is unchanged at %(event)s: still version %(n)d.")
            self.stdout.write(
                msg % {"slug": slug, "event": event.slug, "n": result.challenge.version}
            )
        if failed:
            raise CommandError(_("Some challenges were not published."))
