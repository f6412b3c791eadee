"""Keep a GradeResult within the sizes of grader/limits.py's BOUNDS, whatever the submission did.

The result goes into a database row and over a task queue; a cell message carrying a 10 MB
exception text, thousands of reasons, or a NaN (not JSON) must not get there.
"""

from __future__ import annotations

import json
import math

from . import result as R
from .limits import BOUNDS


def _cut(text: object, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more]"


def _finite(value: float, what: str, result: R.GradeResult) -> float:
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    result.reasons.append(f"{what} was not a finite number ({value!r}); counted as 0")
    return 0.0


def bound_result(result: R.GradeResult) -> R.GradeResult:
    """Cut messages, reasons and log lines to their bounds; non-finite numbers become 0."""
    limit = BOUNDS.max_message_chars
    for cell in result.cells:
        cell.message = _cut(cell.message, limit)
        cell.points = _finite(cell.points, f"points of {cell.grade_id!r}", result)
        cell.max_points = _finite(cell.max_points, f"maximum of {cell.grade_id!r}", result)
    result.score = _finite(result.score, "the score", result)
    result.max_score = _finite(result.max_score, "the maximum score", result)
    result.held_points = _finite(result.held_points, "held points", result)
    reasons = [_cut(r, limit) for r in result.reasons[: BOUNDS.max_reasons]]
    if len(result.reasons) > BOUNDS.max_reasons:
        reasons.append(f"... and {len(result.reasons) - BOUNDS.max_reasons} more reasons")
    result.reasons = reasons
    log = [_cut(line, limit) for line in result.log]
    if len(log) > BOUNDS.max_log_lines:
        half = BOUNDS.max_log_lines // 2
        log = [*log[:half], f"... {len(log) - 2 * half} log lines left out ...", *log[-half:]]
    result.log = log
    while len(json.dumps(result.to_dict(include_feedback=False))) > BOUNDS.max_result_bytes:
        limit //= 4
        if limit < 100:
            result.log = result.log[:10]
            result.reasons = result.reasons[:10]
            break
        for cell in result.cells:
            cell.message = _cut(cell.message, limit)
        result.reasons = [_cut(r, limit) for r in result.reasons]
        result.log = [_cut(line, limit) for line in result.log]
    return result
