#!/usr/bin/env python
"""Django's command-line utility for KernelCamp."""

import os
import sys
from pathlib import Path

# platform/ is a plain source folder (never a package: it would shadow the standard library's
# `platform` module), so the project package inside it is put on the path here.
sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kernelcamp.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
