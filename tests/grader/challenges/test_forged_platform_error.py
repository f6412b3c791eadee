"""Issue 12, session 6: an entry must not pass its own failure off as the platform's. The runner
loads the entry in the process that answers the harness, so an entry can write the hello's reply
itself; `Channel.__init__` (grader/challenges/channel.py) takes that reply's `code` as given, and
"sandbox-error" made the result an `error`: the platform's fault, whose quota the site gives back
(contests.scoring). The hello's reply now says "load-failed" or is "channel-forged"; the site
also forgives only a few platform failures a day (contests.services.FORGIVEN_PER_DAY)."""

from __future__ import annotations

from pathlib import Path

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


def test_an_entry_that_writes_the_hello_reply_is_not_a_platform_error(horner_scorer, tmp_path):
    entry = tmp_path / "forge_platform_error.py"
    entry.write_text(FORGE)
    result = horner_scorer.score(Path(entry))
    assert result.status == "rejected", (result.status, result.reason_code, result.reason)
    assert result.reason_code == "channel-forged"
