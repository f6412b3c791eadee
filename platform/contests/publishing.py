"""Publishing `challenges/<slug>/` to an event, as courses are published: check the folder with
the grader's own manifest reader (named errors), keep the whole folder as a tar archive, and store
a new version only when its content changed. Workers unpack the archive to score against."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from contests.models import Challenge, Entry
from events.models import Event

#: Never archived: byte-code and editor droppings.
_SKIPPED = {"__pycache__", ".ipynb_checkpoints", ".DS_Store"}


class PublishError(ValueError):
    """A folder that cannot be published; the message names the problem (and its code)."""

    def __init__(self, message: str, code: str = "bad-challenge") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PublishResult:
    challenge: Challenge
    created: bool
    changed: bool


def available_challenge_slugs(base: Path | None = None) -> list[str]:
    base = base or settings.KC_CHALLENGES_DIR
    return sorted(p.name for p in Path(base).iterdir() if (p / "challenge.toml").is_file())


def archive_folder(folder: Path) -> bytes:
    """A byte-for-byte reproducible tar of the folder (sorted names, no times or owners), so the
    same content always has the same hash."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if any(part in _SKIPPED for part in relative.parts) or path.suffix == ".pyc":
                continue
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                raise PublishError(f"{folder.name}/{relative} is not a plain file", "bad-file")
            info = tarfile.TarInfo(f"{folder.name}/{relative.as_posix()}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _read_text(folder: Path, name: str) -> str:
    path = folder / name
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def publish_challenge(
    slug: str, event: Event, *, folder: Path | None = None, by=None
) -> PublishResult:
    """Check `challenges/<slug>/` and publish it to the event (a new version when it changed)."""
    from grader.challenges.spec import ChallengeError, load_challenge

    folder = Path(folder or Path(settings.KC_CHALLENGES_DIR) / slug)
    try:
        spec = load_challenge(folder)
    except ChallengeError as exc:
        raise PublishError(f"{slug}: {exc.message} [{exc.code}]", exc.code) from None
    bundle = archive_folder(folder)
    digest = hashlib.sha256(bundle).hexdigest()
    if spec.kind == "kernel":
        ranked_by, metric, higher = Challenge.RankedBy.SPEEDUP, spec.kernel.score, True
        device = spec.kernel.device
    else:
        ranked_by, metric = Challenge.RankedBy.METRIC, spec.predictions.metric
        higher, device = spec.predictions.higher_is_better, ""
    fields = {
        "title": spec.title,
        "title_ko": spec.title_ko,
        "kind": spec.kind,
        "ranked_by": ranked_by,
        "metric": metric,
        "higher_is_better": higher,
        "device": device,
        "statement": _read_text(folder, "README.md"),
        "statement_ko": _read_text(folder, "README.ko.md"),
        "manifest": {
            "limits": {"time_s": spec.limits.time_s, "memory_mb": spec.limits.memory_mb},
            "quota": {"per_day": spec.quota.per_day, "total": spec.quota.total},
        },
        "bundle": bundle,
        "bundle_sha256": digest,
        "quota_per_day": spec.quota.per_day,
        "quota_total": spec.quota.total,
    }
    with transaction.atomic():
        challenge = Challenge.objects.select_for_update().filter(event=event, slug=slug).first()
        if challenge is not None and challenge.bundle_sha256 == digest:
            return PublishResult(challenge, created=False, changed=False)
        created = challenge is None
        if created:
            challenge = Challenge.objects.create(
                event=event, slug=slug, published_at=timezone.now(), **fields
            )
        else:
            # The quota is the manifest's only at first: then it is the organizer's setting.
            for name in ("quota_per_day", "quota_total"):
                fields.pop(name)
            for name, value in fields.items():
                setattr(challenge, name, value)
            challenge.version = F("version") + 1
            challenge.board_version = F("board_version") + 1
            challenge.published_at = timezone.now()
            challenge.save()
            challenge.refresh_from_db()
        if spec.baseline_path is not None:
            _hand_in_baseline(challenge, spec.baseline_path, by)
    return PublishResult(challenge, created=created, changed=True)


def _hand_in_baseline(challenge: Challenge, path: Path, by) -> Entry | None:
    """The folder's baseline entry, scored like any entry and shown on the board as 'Baseline'
    (one row, whatever the version). Takes no quota."""
    from contests.services import queue_entry

    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if Entry.objects.filter(challenge=challenge, is_baseline=True, sha256=digest).exists():
        return None
    now = timezone.now()
    entry = Entry.objects.create(
        challenge=challenge,
        user=by,
        competitor="baseline",
        is_baseline=True,
        label=path.name,
        file=data,
        filename=path.name,
        sha256=digest,
        size=len(data),
        created_at=now,
        queued_at=now,
    )
    queue_entry(entry)
    return entry


def unpacked_challenge(challenge: Challenge) -> Path:
    """The challenge folder as published, unpacked once per content hash under the cache dir."""
    base = Path(settings.KC_CONTEST_CACHE_DIR) / challenge.bundle_sha256
    folder = base / challenge.slug
    if (folder / "challenge.toml").is_file():
        return folder
    base.parent.mkdir(parents=True, exist_ok=True)
    staging = base.parent / f".{challenge.bundle_sha256}.{os.getpid()}"
    staging.mkdir(mode=0o755, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(bytes(challenge.bundle)), mode="r") as tar:
        tar.extractall(staging, filter="data")
    try:
        staging.rename(base)
    except OSError:  # another worker unpacked it first: theirs is the same content
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    return folder
