"""Score a predictions entry (a CSV) against a challenge's hidden labels.

The labels (``secret/labels.csv``: the id column, the target column and ``split``) are read here,
in the parent, and never go anywhere else. The entry's file is data and is never executed, but
it is still parsed in a child process with resource caps (``predictions_csv.py``), so a 2 GB or
pathological CSV ends that child rather than the grader. The parent then matches ids and scores
the public and the private rows separately with the manifest's metric (``metrics.py``).

Every refusal is a ``rejected`` result with a named ``reason_code`` (docs/challenges.md,
"Predictions"); a broken challenge folder raises a ``ChallengeError`` (the command line's exit 4).
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from grader.challenges.metrics import Metric, MetricError, get_metric
from grader.challenges.predictions_csv import quote
from grader.challenges.result import EXIT_SANDBOX, ScoreResult
from grader.challenges.spec import BadSecret, ChallengeError, ChallengeSpec, MissingSecret

CHILD_SCRIPT = Path(__file__).with_name("predictions_csv.py")
KIND = "predictions"
#: Ids quoted in a missing-id or unknown-id reason.
EXAMPLES = 3


@dataclass(frozen=True)
class ParseLimits:
    """Caps on reading one entry. ``for_rows`` sizes them from the number of test rows."""

    max_bytes: int
    max_rows: int
    max_field_chars: int = 1024
    memory_bytes: int = 512 * 1024**2
    cpu_seconds: int = 10
    #: Wall clock for the child; past it the platform is at fault (the CPU cap comes first).
    wall_seconds: float = 60.0

    @classmethod
    def for_rows(cls, rows: int) -> ParseLimits:
        # 256 bytes a row is ten times a generous row ("123456,0.123456789012345\r\n"); rows may
        # be twice the test set so that duplicates and strays get their own precise reason.
        return cls(max_bytes=max(1024**2, 256 * rows), max_rows=2 * rows + 100)


@dataclass(frozen=True)
class Labels:
    ids: list[str]
    truths: list[str]
    splits: np.ndarray  # "public" or "private" per row

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.truths))


def read_labels(spec: ChallengeSpec) -> Labels:
    """The hidden labels, checked: every id once, every split public or private, both present."""
    settings = spec.predictions
    path = spec.labels_path
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MissingSecret("secret/labels.csv is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadSecret(f"secret/labels.csv cannot be read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    needed = (settings.id_column, settings.target_column, "split")
    if reader.fieldnames is None or any(name not in reader.fieldnames for name in needed):
        raise BadSecret(f"secret/labels.csv must have the columns {', '.join(needed)}")
    ids, truths, splits = [], [], []
    for row in reader:
        ids.append(row[settings.id_column].strip())
        truths.append(row[settings.target_column].strip())
        splits.append(row["split"].strip())
    if not ids:
        raise BadSecret("secret/labels.csv has no rows")
    if len(set(ids)) != len(ids):
        raise BadSecret("secret/labels.csv lists an id twice")
    if set(splits) != {"public", "private"}:
        raise BadSecret("secret/labels.csv: split must be 'public' or 'private', and both occur")
    return Labels(ids, truths, np.array(splits))


def parse_in_child(path: Path, metric: Metric, spec: ChallengeSpec, limits: ParseLimits) -> dict:
    """The child's answer, or a rejection/error answer of the same shape when it died."""
    options = asdict(limits) | {
        "id_column": spec.predictions.id_column,
        "target_column": spec.predictions.target_column,
        "value_kind": metric.prediction,
    }
    options.pop("wall_seconds")
    with path.open("rb") as stdin:
        child = subprocess.Popen(
            [sys.executable, "-I", "-S", str(CHILD_SCRIPT), json.dumps(options)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
        )
        try:
            out, err = child.communicate(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return {
                "ok": False,
                "error": True,
                "code": "parse-timeout",
                "reason": f"reading the file took longer than {limits.wall_seconds:g} s",
            }
    if child.returncode == 0:
        try:
            return json.loads(out)
        except ValueError:
            pass
    if child.returncode in (-signal.SIGXCPU, -signal.SIGKILL) or b"MemoryError" in err:
        return {
            "ok": False,
            "code": "too-large",
            "reason": "the file needs more time or memory to read than an entry may use",
        }
    return {
        "ok": False,
        "error": True,
        "code": "parse-failed",
        "reason": f"the CSV reader failed (exit {child.returncode}): {err[-300:]!r}",
    }


def canonical_class(value: str, classes: set[str], numeric_classes: dict[float, str]) -> str | None:
    """The class a predicted label names: itself, or "1.0" for a numeric class "1"."""
    if value in classes:
        return value
    try:
        return numeric_classes.get(float(value))
    except ValueError:
        return None


def match_rows(
    ids: list[str], values: list, labels: Labels, metric: Metric
) -> tuple[str, str] | list:
    """The predictions in the labels' order, or (code, reason) when the rows do not fit."""
    counts = Counter(ids)
    duplicated = next((key for key, n in counts.items() if n > 1), None)
    if duplicated is not None:
        return "duplicate-id", (
            f"id {quote(duplicated)} has {counts[duplicated]} rows; each id must have exactly one"
        )
    known = set(labels.ids)
    unknown = [key for key in ids if key not in known]
    if unknown:
        examples = ", ".join(quote(key) for key in unknown[:EXAMPLES])
        return "unknown-id", (
            f"{len(unknown)} rows have ids not in the test set, e.g. {examples} "
            "(ids are compared as text, as written in test.csv)"
        )
    if len(ids) < len(labels.ids):
        given = set(ids)
        missing = [key for key in labels.ids if key not in given]
        examples = ", ".join(quote(key) for key in missing[:EXAMPLES])
        return "missing-id", (
            f"{len(missing)} ids of the test set have no prediction, e.g. {examples}"
        )
    by_id = dict(zip(ids, values, strict=True))
    ordered = [by_id[key] for key in labels.ids]
    if metric.prediction != "class":
        return ordered
    classes = set(labels.classes)
    numeric_classes = {}
    for label in classes:
        try:
            numeric_classes[float(label)] = label
        except ValueError:
            pass
    matched = []
    for value in ordered:
        label = canonical_class(value, classes, numeric_classes)
        if label is None:
            return "wrong-label", (
                f"the prediction {quote(value)} is not a class; the classes are "
                + ", ".join(labels.classes)
            )
        matched.append(label)
    return matched


def split_scores(predictions: list, labels: Labels, metric: Metric) -> dict[str, dict]:
    if metric.prediction == "class":
        truth = np.array(labels.truths, dtype=object)
        guess = np.array(predictions, dtype=object)
    else:
        try:
            truth = np.array([float(value) for value in labels.truths])
        except ValueError:
            raise BadSecret(f"secret/labels.csv: {metric.name} needs numeric labels") from None
        guess = np.array(predictions, dtype=np.float64)
    scores = {}
    for split in ("public", "private"):
        rows = labels.splits == split
        try:
            value = metric.function(truth[rows], guess[rows])
        except MetricError as exc:
            raise BadSecret(f"secret/labels.csv, {split} rows: {exc}") from None
        scores[split] = {"score": value, "detail": {"metric": metric.name, "rows": int(rows.sum())}}
    return scores


def score_predictions(
    spec: ChallengeSpec, submission_path: Path, limits: ParseLimits | None = None
) -> ScoreResult:
    """Score one predictions CSV. Raises ChallengeError when the challenge itself is broken."""
    if spec.predictions is None:
        raise ChallengeError(f"{spec.slug} is a {spec.kind} challenge, not a predictions one")
    metric = get_metric(spec.predictions.metric)
    labels = read_labels(spec)
    limits = limits or ParseLimits.for_rows(len(labels.ids))
    base = {"ranked_by": "metric", "higher_is_better": metric.higher_is_better, "device": "cpu"}

    def rejected(code: str, reason: str) -> ScoreResult:
        return ScoreResult.rejected(spec.slug, KIND, code, reason, **base)

    submission_path = Path(submission_path)
    try:
        size = submission_path.stat().st_size
    except OSError as exc:
        return ScoreResult.error(
            spec.slug, KIND, "missing-submission", f"cannot read the entry: {exc.strerror}", **base
        )
    if size > limits.max_bytes:  # refused before a byte is read
        return rejected("too-large", f"the file has {size} bytes; at most {limits.max_bytes}")
    if size == 0:
        return rejected("not-csv", "the file is empty")
    answer = parse_in_child(submission_path, metric, spec, limits)
    if answer.get("error"):
        return ScoreResult.error(
            spec.slug, KIND, answer["code"], answer["reason"], exit_code=EXIT_SANDBOX, **base
        )
    if not answer["ok"]:
        return rejected(answer["code"], answer["reason"])
    matched = match_rows(answer["ids"], answer["values"], labels, metric)
    if isinstance(matched, tuple):
        return rejected(*matched)
    scores = split_scores(matched, labels, metric)
    return ScoreResult(spec.slug, KIND, public=scores["public"], private=scores["private"], **base)
