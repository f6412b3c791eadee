"""What grading a submission produces."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

# Cell statuses.
PASSED = "passed"
FAILED = "failed"
ERROR = "error"
TIMEOUT = "timeout"
NOT_RUN = "not-run"
SKIPPED_ON_SIMULATOR = "skipped-on-simulator"
NEEDS_MANUAL = "needs-manual-grade"
STATUSES = (PASSED, FAILED, ERROR, TIMEOUT, NOT_RUN, SKIPPED_ON_SIMULATOR, NEEDS_MANUAL)

# Flags on a whole result.
TAMPERED_TEST_CELL = "tampered-test-cell"
TAMPERED_RUNTIME = "tampered-runtime"
KERNEL_KILLED = "kernel-killed"
OUTPUT_TRUNCATED = "output-truncated"
REVIEW_NEEDED = "review-needed"
INVALID_SUBMISSION = "invalid-submission"
NETWORK_NOT_ISOLATED = "network-not-isolated"
#: The kernel's messages were forged or out of order for some cell (its points are held).
PROTOCOL_VIOLATION = "protocol-violation"
#: A cell with nbgrader metadata appeared twice; the first copy counts (a note, not a cheat).
DUPLICATE_CELL = "duplicate-cell"


@dataclass
class CellResult:
    grade_id: str
    points: float
    max_points: float
    status: str
    #: Shown to the student: why the cell passed, failed or was not run, with the traceback.
    message: str = ""
    #: Whether the points count towards max_score (False for cells skipped on the simulator).
    counted: bool = True
    #: Points earned but held for a person's review (a policy or integrity flag): they are not in
    #: GradeResult.score until an instructor releases them.
    held: bool = False


@dataclass
class GradeResult:
    cells: list[CellResult]
    score: float
    max_score: float
    device: str
    feedback_html: str = ""
    flags: list[str] = field(default_factory=list)
    #: Human-readable reasons behind the flags, one line each.
    reasons: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    #: Points earned by cells whose result is held for review; never included in ``score``.
    held_points: float = 0.0

    def flag(self, flag: str, reason: str | None = None) -> None:
        if flag not in self.flags:
            self.flags.append(flag)
        if reason and reason not in self.reasons:
            self.reasons.append(reason)

    def cell(self, grade_id: str) -> CellResult:
        for cell in self.cells:
            if cell.grade_id == grade_id:
                return cell
        raise KeyError(grade_id)

    def to_dict(self, include_feedback: bool = True) -> dict:
        data = asdict(self)
        if not include_feedback:
            data.pop("feedback_html")
        return data

    def to_json(self, include_feedback: bool = True, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(include_feedback), indent=indent)

    @classmethod
    def from_dict(cls, data: dict) -> GradeResult:
        data = dict(data)
        data["cells"] = [CellResult(**cell) for cell in data.get("cells", [])]
        return cls(**data)
