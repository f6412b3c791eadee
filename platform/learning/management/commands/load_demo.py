"""Demo data for a first look: an organization, an instructor, three students, a running cohort."""

from datetime import timedelta

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, OrganizationMembership, User
from learning.manifest import ManifestError
from learning.models import Cohort, CourseStaff, Enrolment, InviteCode
from learning.services.cohorts import create_cohort
from learning.services.enrolment import enrol
from learning.services.publishing import publish_course

DEMO_COURSE = "kernelcamp-demo"
DEMO_PASSWORD = "kernelcamp-demo"
INSTRUCTORS_GROUP = "Instructors"


def instructors_group() -> Group:
    """Members may publish new courses from the repository."""
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    group.permissions.add(
        Permission.objects.get(codename="add_course", content_type__app_label="learning")
    )
    return group


class Command(BaseCommand):
    help = "Create demo accounts and a running demo cohort (idempotent). Prints the logins."

    def add_arguments(self, parser):
        parser.add_argument("--course", default=DEMO_COURSE)

    @transaction.atomic
    def handle(self, *args, **options):
        org, _ = Organization.objects.get_or_create(
            slug="demo-university",
            defaults={"name": "Demo University", "kind": Organization.Kind.UNIVERSITY},
        )
        admin = self._user("admin", "Site Admin", staff=True)
        instructor = self._user("instructor", "Ada Instructor")
        instructor.groups.add(instructors_group())
        students = [self._user(f"student{i}", f"Student {i}") for i in (1, 2, 3)]
        for user in [instructor, *students]:
            OrganizationMembership.objects.get_or_create(organization=org, user=user)
        try:
            result = publish_course(options["course"], by=instructor)
        except ManifestError as exc:
            raise CommandError(f"The demo course does not publish: {exc}") from exc
        course = result.version.course
        if course.organization is None:
            course.organization = org
            course.save(update_fields=["organization"])
        CourseStaff.objects.get_or_create(
            course=course, user=instructor, defaults={"role": CourseStaff.Role.INSTRUCTOR}
        )
        cohort = course.cohorts.filter(name="Demo cohort").first()
        if cohort is None:
            today = timezone.localdate()
            cohort = create_cohort(
                course,
                "Demo cohort",
                today - timedelta(days=1),
                today + timedelta(days=30),
                by=instructor,
                seat_limit=100,
                late_policy=Cohort.LatePolicy.PENALTY_PER_DAY,
            )
            # Everything open now so the demo can be tried at once.
            cohort.schedule.update(release_at=timezone.now() - timedelta(hours=1))
        for student in students:
            enrol(cohort, student, source=Enrolment.Source.MANUAL)
        invite = cohort.invite_codes.first() or InviteCode.objects.create(
            cohort=cohort, created_by=instructor
        )
        from events.demo import load_demo_event  # the demo hackathon lives with its app

        event_lines = load_demo_event(org, instructor, students, self._user)
        from grading.demo import load_demo_submissions  # graded by the run command's workers

        event_lines += load_demo_submissions(cohort, students)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            f"  course: {course.title} (version {cohort.version.number}), cohort: {cohort.name}, invite code: {invite.code}"
        )
        self.stdout.write(f"  logins (password for all: {DEMO_PASSWORD}):")
        for user, role in [
            (admin, "staff"),
            (instructor, "instructor"),
            *[(s, "student") for s in students],
        ]:
            self.stdout.write(f"    {user.username:<12} {role}")
        for line in event_lines:
            self.stdout.write(line)

    def _user(self, username: str, name: str, staff: bool = False) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username, display_name=name, email=f"{username}@demo.kernelcamp.local"
            )
            user.is_staff = user.is_superuser = staff
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user
