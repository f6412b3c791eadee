from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from learning.manifest import ManifestError
from learning.services.publishing import available_course_slugs, publish_course


class Command(BaseCommand):
    help = (
        "Validate courses/<slug> and its notebooks and store them as an immutable course version."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="course slugs (default: every course)")
        parser.add_argument("--all", action="store_true", help="publish every course in courses/")

    def handle(self, *args, **options):
        slugs = options["slugs"] or (available_course_slugs() if options["all"] else [])
        if not slugs:
            raise CommandError(_("Name a course to publish, or pass --all."))
        failed = False
        for slug in slugs:
            try:
                result = publish_course(slug)
            except ManifestError as exc:
                self.stderr.write(self.style.ERROR(str(exc)))
                failed = True
                continue
            version = result.version
            if result.created:
                msg = _("Published %(slug)s version %(n)d (%(count)d assignments).")
            else:
                msg = _("%(slug)s is unchanged: still version %(n)d (%(count)d assignments).")
            self.stdout.write(
                msg % {"slug": slug, "n": version.number, "count": version.assignments.count()}
            )
        if failed:
            raise CommandError(_("Some courses were not published."))
