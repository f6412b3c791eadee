"""Default GPU profiles, and for the demo: the simulator profile and GPU-hours for its cohort
and for the demo hackathon's teams."""

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
            organization_id=org,
            cohort=None,
            event=None,
            user=None,
            team=None,
            defaults={"gpu_hours": 100},
        )
        Allocation.objects.get_or_create(
            organization_id=org,
            cohort=cohort,
            user=None,
            defaults={"gpu_hours": 20, "per_user_gpu_hours": 2},
        )
        self.stdout.write(f"granted {simulator.slug} and 2 GPU-hours per student to {cohort}")
        self._demo_event(simulator)

    def _demo_event(self, simulator: GpuProfile) -> None:
        """The demo hackathon: the simulator for its teams, 40 GPU-hours, 4 per team."""
        from events.demo import DEMO_EVENT
        from events.models import Event

        event = Event.objects.filter(slug=DEMO_EVENT).first()
        if event is None:
            return
        ProfileGrant.objects.get_or_create(profile=simulator, event=event)
        Allocation.objects.get_or_create(
            organization_id=event.organization_id,
            event=event,
            team=None,
            defaults={"gpu_hours": 40, "per_team_gpu_hours": 4, "note": "demo hackathon"},
        )
        self.stdout.write(f"granted {simulator.slug} and 4 GPU-hours per team to {event}")
