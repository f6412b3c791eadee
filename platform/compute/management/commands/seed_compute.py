"""Default GPU profiles, and for the demo: the simulator profile and GPU-hours for its cohort."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from compute.defaults import ensure_default_profiles
from compute.models import Allocation, GpuProfile, ProfileGrant
from learning.models import Cohort


class Command(BaseCommand):
    help = "Create the default GPU profiles (idempotent); --demo also grants the demo cohort."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo", action="store_true")

    def handle(self, *args, **options) -> None:
        profiles = ensure_default_profiles()
        self.stdout.write(f"{len(profiles)} GPU profiles")
        if not options["demo"]:
            return
        cohort = Cohort.objects.filter(name="Demo cohort").select_related("course").first()
        if cohort is None or cohort.course.organization_id is None:
            self.stdout.write("no demo cohort with an organization: nothing granted")
            return
        simulator = GpuProfile.objects.get(slug="cpu-simulator")
        ProfileGrant.objects.get_or_create(profile=simulator, cohort=cohort)
        org = cohort.course.organization_id
        Allocation.objects.get_or_create(
            organization_id=org, cohort=None, user=None, defaults={"gpu_hours": 100}
        )
        Allocation.objects.get_or_create(
            organization_id=org,
            cohort=cohort,
            user=None,
            defaults={"gpu_hours": 20, "per_user_gpu_hours": 2},
        )
        self.stdout.write(f"granted {simulator.slug} and 2 GPU-hours per student to {cohort}")
