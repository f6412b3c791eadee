"""The kernel-challenge harness: times an entry against the reference, each in its own sandboxed
child, on inputs made fresh in the parent for every call, and decides whether it scores.

One series per (shape, seed set): warm-up calls, a repeat probe (a fresh input, the same input
again, a perturbed copy), then paired timed calls (reference and entry on the same fresh input,
in alternating order) until both series' standard error is under 0.5 % of the mean or a cap.
Each pair is preceded by a null call to each child; on a CPU the times scored are the parent's
clock less the channel's round trip those measured (``calibration.py``).
The score is the geometric mean, in log space, of reference median / entry median. See
docs/challenges.md, "Scoring harness", for the threat model.
"""

from __future__ import annotations

import importlib.util
import secrets
import statistics
import time
from pathlib import Path

import numpy as np

from ..device import SIMULATOR, Device, resolve_device
from ..sandbox import SandboxError
from .calibration import Calibration, calibrate, corrected, null_work_s, slow_null_call
from .channel import CallRecord, Child, ChildFailed, NullRecord, child_limits, make_sandbox
from .result import (
    EXIT_BAD_CHALLENGE,
    FASTER_THAN_ROOFLINE,
    SLOW_NULL_CALL,
    TOO_FAST,
    ScoreResult,
    Timing,
    geometric_mean,
)
from .spec import ChallengeError, ChallengeSpec, MissingFile
from .timing import (
    DEFAULT_RULES,
    FAST_RULES,
    cache_flush_buffer,
    call_seed,
    memory_bandwidth,
    perturbed,
    rel_sem,
)
from .verdicts import (
    SeriesRecord,
    Verdict,
    check_clocks,
    check_idle_work,
    check_output,
    check_repeats,
    check_tampering,
    check_threads,
)

MAX_ENTRY_BYTES = 1024**2


class ReferenceFailed(Exception):
    """The challenge's own reference failed: the platform's fault, never the entry's."""


def _read_entry(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Verdict("bad-submission", f"cannot read the entry: {exc.strerror}") from None
    if len(data) > MAX_ENTRY_BYTES:
        raise Verdict("bad-submission", f"the entry is over {MAX_ENTRY_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Verdict("bad-submission", "the entry is not UTF-8 text") from None


def made_inputs(make_inputs, seed: int, shape: dict) -> tuple[np.ndarray, ...]:
    made = make_inputs(seed, dict(shape))
    arrays = tuple(np.ascontiguousarray(a) for a in (made if isinstance(made, tuple) else (made,)))
    if not arrays or any(not isinstance(a, np.ndarray) or a.dtype.hasobject for a in arrays):
        raise ChallengeError("make_inputs must return a tuple of numeric numpy arrays")
    return arrays


def load_make_inputs(spec: ChallengeSpec):
    """The challenge's input generator, run in the parent (challenge code is trusted)."""
    loader = importlib.util.spec_from_file_location(f"kc_inputs_{spec.slug}", spec.inputs_path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    make_inputs = getattr(module, "make_inputs", None)
    if not callable(make_inputs):
        raise MissingFile("inputs.py defines no make_inputs(seed, shape)")
    return make_inputs


class Harness:
    """One entry against the reference: the entry's child, a fresh nonce, the timed series."""

    def __init__(self, scorer: KernelScorer, entry: Child, deadline: float) -> None:
        self.spec = scorer.spec
        self.settings = scorer.spec.kernel
        self.rules = scorer.rules
        self.make_inputs = scorer.make_inputs
        self.flush = scorer.flush
        self.reference = scorer.reference
        self.entry = entry
        self.deadline = deadline
        self.nonce = secrets.token_bytes(16)
        self.rng = np.random.default_rng(int.from_bytes(self.nonce[:8], "big"))
        check_tampering(entry.tampered)
        #: Threads of the loaded entry before any call: a call must leave no more behind.
        self.baseline_threads = entry.threads()

    def inputs(self, seed: int, shape: dict) -> tuple[np.ndarray, ...]:
        return made_inputs(self.make_inputs, seed, shape)

    # --- calls ------------------------------------------------------------------------------

    def _timeout(self, reference_wall: list[float]) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Verdict(
                "timeout", f"scoring ran past the challenge's {self.spec.limits.time_s:g} s"
            )
        if not reference_wall:
            return left
        return min(left, max(self.rules.min_call_timeout_s, 50 * statistics.median(reference_wall)))

    def pair(
        self,
        inputs,
        capacity: int,
        reference_wall: list[float],
        entry_first: bool = False,
        nulls: tuple[list[NullRecord], list[NullRecord]] | None = None,
    ) -> tuple[CallRecord, CallRecord]:
        """The reference and the entry on the same inputs; the entry's output checked. With
        ``nulls`` (the reference's list, the entry's), a null call to each child first, before
        any input of this pair is written to either child's memory."""
        timeout = self._timeout(reference_wall)
        records: dict[str, CallRecord] = {}
        order = ("entry", "reference") if entry_first else ("reference", "entry")
        for role in order if nulls is not None else ():
            child = self.entry if role == "entry" else self.reference
            try:
                record = child.null_call(timeout, self.flush)
            except ChildFailed as exc:
                if role == "reference":
                    raise ReferenceFailed(f"the reference failed: {exc.reason}") from None
                raise
            nulls[role == "entry"].append(record)
        for role in order:
            child = self.entry if role == "entry" else self.reference
            try:
                records[role] = child.call(inputs, capacity, timeout, self.flush)
            except ChildFailed as exc:
                if role == "reference":
                    raise ReferenceFailed(f"the reference failed: {exc.reason}") from None
                raise
        check_output(
            records["entry"].output, records["reference"].output, self.settings.rtol,
            self.settings.atol,
        )  # fmt: skip
        check_tampering(self.entry.tampered)
        return records["reference"], records["entry"]

    def series(self, shape: dict, seeds: tuple[int, ...], seed_set: str) -> tuple[Timing, int]:
        """One timed series, and the bytes a call must move at least (inputs and output)."""
        rules = self.rules
        counter = iter(range(1 << 62))

        def fresh():
            index = next(counter)
            return self.inputs(
                call_seed(seeds[index % len(seeds)], shape, index, self.nonce), shape
            )

        first = fresh()
        capacity = sum(a.nbytes for a in first) * rules.output_factor + 4096
        ref_wall: list[float] = []
        ref, ent = SeriesRecord(), SeriesRecord()
        nulls: tuple[list[NullRecord], list[NullRecord]] = ([], [])
        for number in range(rules.warmup):
            r, e = self.pair(first if number == 0 else fresh(), capacity, ref_wall, nulls=nulls)
            if number:  # the first call compiles: neither its time nor its gap says anything
                ref.settled.append(r)
                ent.settled.append(e)
                ref_wall.append(r.wall_s)
        for _ in range(rules.probe_rounds):
            inputs = fresh()
            for bucket in ("fresh", "repeat", "settled"):
                r, e = self.pair(inputs if bucket != "settled" else perturbed(inputs, self.rng),
                                 capacity, ref_wall, nulls=nulls)  # fmt: skip
                getattr(ref, bucket).append(r)
                getattr(ent, bucket).append(e)
                ref_wall.append(r.wall_s)
        started = time.monotonic()
        while True:
            r, e = self.pair(
                fresh(), capacity, ref_wall, entry_first=len(ent.timed) % 2 == 1, nulls=nulls
            )
            ref.timed.append(r)
            ent.timed.append(e)
            ref.settled.append(r)
            ent.settled.append(e)
            ref_wall.append(r.wall_s)
            n = len(ent.timed)
            calibration = calibrate(*nulls)
            entry_times, reference_times = self._scored(ent.timed, ref.timed, calibration)
            sem = max(rel_sem(entry_times), rel_sem(reference_times))
            if n >= rules.max_runs or (n >= rules.min_runs and sem < rules.target_rel_sem):
                break
            if n >= rules.min_runs and time.monotonic() - started > rules.series_budget_s:
                break
        self.entry.refuse_unasked_bytes(wait=0.05)
        check_threads(ent.settled + ent.fresh + ent.repeat, self.baseline_threads)
        check_idle_work(ent.settled + ent.fresh + ent.repeat, null_work_s(nulls[1], nulls[0]))
        check_clocks(
            ent.settled + ent.fresh + ent.repeat,
            ref.settled + ref.fresh + ref.repeat,
            # On a GPU the events miss work on other streams; the parent's clock does not.
            wall_gap=self.settings.device == "cuda",
            entry_channel_s=calibration.entry_low_s,
        )
        check_repeats(ent.repeat, ent.fresh + ent.settled)
        entry_median = statistics.median(entry_times)
        reference_median = statistics.median(reference_times)
        moved = sum(a.nbytes for a in first) + ent.timed[-1].output.nbytes
        timing = Timing(
            shape=dict(shape),
            seed_set=seed_set,
            entry_median_s=entry_median,
            reference_median_s=reference_median,
            speedup=reference_median / entry_median,
            rel_sem=sem,
            runs=n,
            entry_reported_median_s=statistics.median(c.reported_s for c in ent.timed),
            channel_s=calibration.overhead_s,
            entry_null_call_s=calibration.entry_median_s,
            uncorrected_speedup=statistics.median(c.wall_s for c in ref.timed)
            / statistics.median(c.wall_s for c in ent.timed),
        )
        return timing, moved

    def _scored(
        self, entry: list[CallRecord], reference: list[CallRecord], calibration: Calibration
    ) -> tuple[list[float], list[float]]:
        """The times that are scored, the entry's and the reference's: on a CPU the parent's
        clock less the reference's median null call, for both; on a GPU the CUDA events, which
        check_clocks holds against the parent's clock."""
        if self.settings.device == "cuda":
            events = [[max(c.reported_s, 1e-9) for c in calls] for calls in (entry, reference)]
            return events[0], events[1]
        scored = [
            [corrected(c, calibration.overhead_s) for c in calls] for calls in (entry, reference)
        ]
        return scored[0], scored[1]

    def correctness_only(self, shape: dict, seeds: tuple[int, ...]) -> None:
        """Under the CUDA simulator: every seed once, checked, nothing timed."""
        first = self.inputs(seeds[0], shape)
        capacity = sum(a.nbytes for a in first) * self.rules.output_factor + 4096
        for index, seed in enumerate(seeds):
            self.pair(self.inputs(call_seed(seed, shape, index, self.nonce), shape), capacity, [])


class KernelScorer:
    """Scores entries of one kernel challenge: one sandbox and one reference child, started once
    and shared by every entry scored through it (a whole challenge's rescoring, or tests); each
    entry gets its own fresh child, closed after it."""

    def __init__(
        self,
        spec: ChallengeSpec,
        *,
        fast: bool = False,
        seed_set: str = "both",
        sandbox_options: dict | None = None,
    ) -> None:
        self.spec = spec
        settings = spec.kernel
        self.device = Device(SIMULATOR) if settings.device == "cpu" else resolve_device("auto")
        self.simulated = settings.device == "cuda" and self.device.simulator
        self.rules = FAST_RULES if fast else DEFAULT_RULES
        self.shapes = settings.shapes[:1] if fast else settings.shapes
        sets = [("public", settings.public_seeds), ("private", spec.secret_seeds())]
        self.seed_sets = [(name, seeds) for name, seeds in sets if seed_set in ("both", name)]
        self.make_inputs = load_make_inputs(spec)
        self.flush = cache_flush_buffer(self.rules.flush_cap_bytes)
        largest = max(
            sum(a.nbytes for a in made_inputs(self.make_inputs, 0, shape)) for shape in self.shapes
        )
        self.shared_bytes = (largest + 4096) * (1 + self.rules.output_factor) + (1 << 20)
        limits = child_limits(spec.limits.memory_mb, spec.limits.time_s)
        self.sandbox = make_sandbox(limits, self.device, sandbox_options or {})
        self.reference: Child | None = None
        try:
            self.reference = self._child(spec.reference_path.read_text(encoding="utf-8"))
        except ChildFailed as exc:
            self.close()
            if exc.code == "sandbox-error":
                raise SandboxError(exc.reason) from None
            raise ReferenceFailed(f"the reference did not load: {exc.reason}") from None
        except BaseException:
            self.close()
            raise
        #: Bytes per second of a memory copy on this machine, measured once per scorer.
        self.bandwidth = memory_bandwidth() if settings.device == "cpu" else None

    def _child(self, source: str) -> Child:
        s = self.spec.kernel
        timeout = max(10.0, self.spec.limits.time_s)
        return Child(
            self.sandbox, source, s.entry, s.framework, s.device, self.shared_bytes, timeout
        )

    def __enter__(self) -> KernelScorer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.reference is not None:
            self.reference.close()
            self.reference = None
        self.sandbox.close()

    def score(self, submission: Path) -> ScoreResult:
        spec, settings = self.spec, self.spec.kernel
        result = ScoreResult(
            spec.slug,
            "kernel",
            ranked_by="correctness" if self.simulated else "speedup",
            device="cuda-simulator" if self.simulated else settings.device,
        )
        deadline = time.monotonic() + spec.limits.time_s
        entry = None
        try:
            source = _read_entry(submission)
            entry = self._child(source)
            harness = Harness(self, entry, deadline)
            if self.simulated:
                for name, seeds in self.seed_sets:
                    for shape in self.shapes:
                        harness.correctness_only(shape, seeds)
                    getattr(result, name)["score"] = 1.0
                return result
            for name, seeds in self.seed_sets:
                measured = [harness.series(shape, seeds, name) for shape in self.shapes]
                self._record(result, name, measured)
            return result
        except Verdict as exc:
            return _rejected(result, exc.code, exc.reason)
        except ChildFailed as exc:
            if exc.code in ("sandbox-error", "grader-error"):
                exit_code = 5 if exc.code == "sandbox-error" else 6
                return _error(result, exc.code, exc.reason, exit_code)
            return _rejected(result, exc.code, exc.reason)
        except ReferenceFailed as exc:
            return _error(result, "reference-failed", str(exc), EXIT_BAD_CHALLENGE)
        finally:
            if entry is not None:
                entry.close()

    def _record(self, result: ScoreResult, name: str, measured: list[tuple[Timing, int]]) -> None:
        timings = [timing for timing, _ in measured]
        result.timings.extend(timings)
        getattr(result, name).update(
            score=geometric_mean([t.speedup for t in timings]),
            detail={"speedups": [round(t.speedup, 6) for t in timings]},
        )
        if any(t.speedup > self.spec.kernel.max_speedup_flag for t in timings):
            result.flag(TOO_FAST)
        if any(slow_null_call(t.entry_null_call_s, t.channel_s) for t in timings):
            result.flag(SLOW_NULL_CALL)
        # No memory moves the bytes a call needs faster than this machine's copy bandwidth.
        if self.bandwidth and any(
            t.entry_median_s < moved / self.bandwidth for t, moved in measured
        ):
            result.flag(FASTER_THAN_ROOFLINE)


def score_kernel(
    spec: ChallengeSpec,
    submission: Path,
    *,
    fast: bool = False,
    seed_set: str = "both",
    sandbox_options: dict | None = None,
) -> ScoreResult:
    """Score one entry (the command line's path): a scorer started for it alone."""
    try:
        _read_entry(Path(submission))  # before any child starts: a bad file costs nothing
    except Verdict as exc:
        result = ScoreResult(spec.slug, "kernel", device=spec.kernel.device)
        return _rejected(result, exc.code, exc.reason)
    try:
        scorer = KernelScorer(spec, fast=fast, seed_set=seed_set, sandbox_options=sandbox_options)
    except ReferenceFailed as exc:
        result = ScoreResult(spec.slug, "kernel", device=spec.kernel.device)
        return _error(result, "reference-failed", str(exc), EXIT_BAD_CHALLENGE)
    with scorer:
        return scorer.score(Path(submission))


def _rejected(result: ScoreResult, code: str, reason: str) -> ScoreResult:
    result.status, result.reason_code, result.reason = "rejected", code, reason[:4000]
    return result


def _error(result: ScoreResult, code: str, reason: str, exit_code: int) -> ScoreResult:
    result.status, result.reason_code, result.reason = "error", code, reason[:4000]
    result.error_exit = exit_code
    return result
