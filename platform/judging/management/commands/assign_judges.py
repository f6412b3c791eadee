"""Assign judges to an event's submitted projects: at least k each, balanced, never a conflict."""

from django.core.management.base import BaseCommand, CommandError

from events.models import Event
from judging.services import assign_judges


class Command(BaseCommand):
    help = "Give every submitted project of an event at least K conflict-free judges."

    def add_arguments(self, parser):
        parser.add_argument("event", help="the event's slug")
        parser.add_argument("--k", type=int, default=None, help="judges per project")
        parser.add_argument("--seed", type=int, default=0, help="seed for breaking load ties")

    def handle(self, *args, event: str, k: int | None, seed: int, **options):
        found = Event.objects.filter(slug=event).first()
        if found is None:
            raise CommandError(f"No event {event!r}.")
        report = assign_judges(found, k, seed=seed)
        self.stdout.write(f"{report.created} assignments made.")
        for judge_id, load in sorted(report.loads.items()):
            self.stdout.write(f"judge {judge_id}: {load} projects")
        for project_id, missing in sorted(report.short.items()):
            self.stderr.write(f"project {project_id}: {missing} judge(s) short (conflicts)")
