"""The files a challenge gives its participants: `starter.py` and every file under `public/`
(docs/challenges.md, "A challenge folder"), read from the published archive, never from the
checkout. Nothing else in the archive (reference, inputs, baseline, secret/) is ever served."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass

from django.core.cache import cache

from contests.models import Challenge

STARTER = "starter.py"
PUBLIC = "public"


@dataclass(frozen=True)
class ParticipantFile:
    name: str  # relative to the challenge folder: "starter.py", "public/train.csv"
    size: int


def is_for_participants(name: str) -> bool:
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return False
    return name == STARTER or (parts[0] == PUBLIC and len(parts) > 1)


def _bundle(challenge: Challenge) -> bytes:
    """The archive, read on its own (the pages defer it: it holds the data files)."""
    return bytes(Challenge.objects.values_list("bundle", flat=True).get(pk=challenge.pk))


def _walk(bundle: bytes):
    """(name relative to the folder, member, archive) for each participant file in the archive."""
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r") as tar:
        for member in tar.getmembers():
            _folder, _, name = member.name.partition("/")
            if member.isfile() and is_for_participants(name):
                yield name, member, tar


def participant_files(challenge: Challenge) -> list[ParticipantFile]:
    """The list, sorted by name (starter first), kept per archive content in the cache."""
    key = f"contests:participant-files:{challenge.bundle_sha256}"
    files = cache.get(key)
    if files is None:
        found = [
            ParticipantFile(name, member.size) for name, member, _ in _walk(_bundle(challenge))
        ]
        files = sorted(found, key=lambda f: (f.name != STARTER, f.name))
        cache.set(key, files, None)
    return files


def read_participant_file(challenge: Challenge, name: str) -> bytes | None:
    """The file's bytes, or None when `name` is no participant file of this challenge."""
    if not is_for_participants(name):
        return None
    for found, member, tar in _walk(_bundle(challenge)):
        if found == name:
            return tar.extractfile(member).read()
    return None
