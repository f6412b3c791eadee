"""Issue 12, session 6: an entry must not pass its own failure off as the platform's. The runner
loads the entry in the process that answers the harness, so an entry can write the hello's reply
itself; `Channel.__init__` (grader/challenges/channel.py) takes that reply's `code` as given, and
"sandbox-error" makes the result an `error`: the platform's fault, whose quota the site gives back
(contests.scoring). The site now forgives only a few such failures a day
(contests.services.FORGIVEN_PER_DAY); the harness must call the forged reply what it is.

Strict xfail until channel.py limits the hello's codes as `_output` limits a call's (its owner
was changing it when this was found): then this test passes and the mark must go."""

from __future__ import annotations

from pathlib import Path

import pytest

FORGE = """
import json, os, stat, struct

_reply = json.dumps({"ok": False, "code": "sandbox-error", "error": "forged"}).encode()
for _fd in range(3, 64):
    try:
        if stat.S_ISSOCK(os.fstat(_fd).st_mode):
            os.write(_fd, struct.pack("!I", len(_reply)) + _reply)
    except OSError:
        continue


def solve(x, y):
    return x + y
"""


@pytest.mark.xfail(
    strict=True, reason="channel.py takes the hello reply's code from the entry (see docstring)"
)
def test_an_entry_that_writes_the_hello_reply_is_not_a_platform_error(horner_scorer, tmp_path):
    entry = tmp_path / "forge_platform_error.py"
    entry.write_text(FORGE)
    result = horner_scorer.score(Path(entry))
    assert result.status == "rejected", (result.status, result.reason_code, result.reason)
