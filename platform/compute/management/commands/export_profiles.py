"""Write the GPU profile list for a spawner: local (JSON), kubespawner (z2jh YAML), batchspawner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandParser

from compute.defaults import default_profile_objects
from compute.models import GpuProfile
from compute.profiles import FORMATS, render


def dump(data: dict, fmt: str) -> str:
    if fmt == "kubespawner":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Render the active GPU profiles for one spawner (the hub configs in deploy/ read it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="local")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument(
            "--defaults", action="store_true", help="render the built-in defaults, not the database"
        )

    def handle(self, *args, **options) -> None:
        if options["defaults"]:
            profiles = default_profile_objects()
        else:
            profiles = list(GpuProfile.objects.filter(active=True))
        text = dump(render(options["format"], profiles), options["format"])
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        target = Path(options["output"])
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, target)  # the hub re-reads it on every spawn: never half-written
        self.stdout.write(f"{len(profiles)} profiles → {target}")
