"""Hidden tests never reach the student through the feedback.

The student's code runs inside the test cells, so it can read the hidden tests' source (input
history, frames, tracebacks) and print it or put it in an exception message. Two rules:

1. a cell with hidden tests shows no text the student's code produced: its outputs become a
   generic line (errors keep only a plain exception name, stdout only a ``KERNELCAMP-SKIP:``
   reason the test's own source prints, a numeric result stays for partial credit);
2. in every other output of the notebook, each line of every hidden test is cut out, so a copy
   stashed in a variable and printed by a later cell does not leak either (encoded copies need
   code the policy holds; see docs/grader.md, "Threat model");
3. a code cell that runs after the first cell with hidden tests shows no text either (as rule 1,
   with ``AFTER_HIDDEN_NOTE``): the student's functions, called by the hidden tests, can record
   the arguments they were given with no construct the policy holds, and a later cell could show
   them. Scores are unchanged. An assignment that accepts the leak turns this off with the
   source's ``kernelcamp.show_outputs_after_hidden_tests: true``.
"""

from __future__ import annotations

import re

from nbformat import NotebookNode, from_dict

from .scoring import SKIP_PREFIX
from .source import HIDDEN_BEGIN, HIDDEN_END

HIDDEN_NOTE = "[output not shown: this test cell contains hidden tests]"
AFTER_HIDDEN_NOTE = (
    "[output not shown: this cell ran after hidden tests, whose arguments the code could have "
    "recorded]"
)
REDACTED = "[hidden test]"
#: Shorter hidden lines (``pass``, ``)``) say nothing and would redact ordinary output.
MIN_LINE = 6
_EXCEPTION_NAME = re.compile(r"^[A-Za-z_][\w.]{0,79}$")
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def hidden_lines(source: str) -> list[str]:
    """The stripped lines between the hidden-test markers, longest first."""
    lines, inside = [], False
    for line in source.splitlines():
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif inside and len(line.strip()) >= MIN_LINE:
            lines.append(line.strip())
    return sorted(set(lines), key=len, reverse=True)


def hide_outputs(cell: NotebookNode, note: str = HIDDEN_NOTE, keep_number: bool = True) -> None:
    """Rule 1, for a cell that contains hidden tests (after it ran, before it is scored); rule
    3 with ``note`` for a cell after one (a number result is kept only for a test cell's partial
    credit)."""
    outputs: list[NotebookNode] = []
    noted = False
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            ename = out.get("ename", "")
            ename = ename if _EXCEPTION_NAME.match(ename or "") else "Error"
            outputs.append(
                NotebookNode(
                    output_type="error",
                    ename=ename,
                    evalue=f"details hidden {note}",
                    traceback=[f"{ename}: {note}"],
                )
            )
            continue
        if kind == "stream" and out.get("name") == "stderr":
            outputs.append(NotebookNode(output_type="stream", name="stderr", text=note + "\n"))
            continue
        if kind == "execute_result":
            text = out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            shown = keep_number and _NUMBER.match(text)
            out.data = {"text/plain": text if shown else "(hidden)"}
            out.metadata = {}
            outputs.append(out)
            continue
        if kind == "stream":
            # Only a skip line the test itself prints (its text is in the cell's source): the
            # student's code, called by the hidden tests, could print one with their arguments.
            source = cell.get("source", "")
            skips = [
                line
                for line in out.get("text", "").splitlines()
                if line.startswith(SKIP_PREFIX) and line.strip() in source
            ]
            if skips:
                text = "\n".join(line[:200] for line in skips[:1]) + "\n"
                outputs.append(NotebookNode(output_type="stream", name="stdout", text=text))
                continue
        if not noted:
            outputs.append(NotebookNode(output_type="stream", name="stdout", text=note + "\n"))
            noted = True
    cell.outputs = outputs


def redact_text(text: str, lines: list[str]) -> str:
    """``text`` with every hidden line cut out."""
    for line in lines:
        if line in text:
            text = text.replace(line, REDACTED)
    return text


#: The fields of an output that carry text a cell produced (never its kind or name).
_TEXT_FIELDS = ("text", "evalue", "traceback", "data")


def _redact_value(value, lines: list[str]):
    if isinstance(value, str):
        return redact_text(value, lines)
    if isinstance(value, list):
        return [_redact_value(v, lines) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v, lines) for k, v in value.items()}
    return value


def redact_outputs(nb: NotebookNode, lines: list[str]) -> int:
    """Rule 2: cut each hidden line out of every output; returns how many outputs changed."""
    if not lines:
        return 0
    changed = 0
    for cell in nb.cells:
        outputs = cell.get("outputs") or []
        for index, out in enumerate(outputs):
            redacted = from_dict(
                {k: _redact_value(v, lines) if k in _TEXT_FIELDS else v for k, v in out.items()}
            )
            if redacted != out:
                outputs[index] = redacted
                changed += 1
    return changed
