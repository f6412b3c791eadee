"""Protocol integrity: the kernel's messages are checked, never believed because they are signed.

The student's code holds the kernel's session key. These submissions forge the kernel's own
``execute_reply`` and ``idle`` status, send a message whose content is not JSON, one nested
50,000 deep, and one answering a request the grader never sent.
"""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell

from grader import result as R

from .builders import source_nb, submission

pytestmark = pytest.mark.slow

SOURCE = source_nb(
    "def double(x):\n    return 2 * x",
    ["assert double(3) == 6", "assert double(5) == 10"],
)

#: Sends a reply and an idle for the running request, as the kernel would, from inside a cell.
FORGE = """
def _forge():
    ip = get_ipython()
    k = ip.kernel
    parent = k.get_parent("shell")
    ident = k._shell_parent_ident.get()
    if getattr(k, "_supports_kernel_subshells", False):
        stream = k.shell_channel_thread.manager.get_subshell_to_shell_channel_socket(None)
    else:
        stream = k.shell_stream
    reply = {"status": "ok", "execution_count": ip.execution_count,
             "user_expressions": {}, "payload": []}
    k.session.send(stream, "execute_reply", reply, parent, ident=ident)
    k.session.send(k.iopub_socket, "status", {"execution_state": "idle"},
                   parent=parent, ident=k._topic("status"))
    __import__("time").sleep(0.3)
"""

#: Sends raw, correctly signed iopub frames whose content the grader must not trust.
RAW = """
def _raw(content: bytes, msg_type="display_data", parent=None):
    k = get_ipython().kernel
    s = k.session
    header = s.msg_header(msg_type)
    parent = parent if parent is not None else k.get_parent("shell")["header"]
    parts = [s.pack(header), s.pack(parent), s.pack({}), content]
    k.iopub_socket.send_multipart([k._topic(msg_type), b"<IDS|MSG>", s.sign(parts)] + parts)
    __import__("time").sleep(0.3)
"""


def _reasons(res) -> str:
    return "\n".join(res.reasons)


def test_forged_reply_and_idle_then_real_failure(worker):
    """The forgery says "ok" first; the real failure arrives later and wins; the first test's
    points (a wrong answer) are 0, the second test's points are held for review."""
    answer = FORGE + "\ndef double(x):\n    _forge()\n    return 2 * x if x == 5 else -1"
    res = worker.grade(SOURCE, submission(SOURCE, answer))
    t1, t2 = res.cell("t1"), res.cell("t2")
    assert t1.points == 0 and t1.status in (R.FAILED, R.ERROR), t1
    assert "forged" in t1.message
    assert t2.held and t2.points == 1.0, t2
    assert res.score == 0.0 and res.held_points == 1.0
    assert R.PROTOCOL_VIOLATION in res.flags and R.REVIEW_NEEDED in res.flags
    assert "a second execute_reply" in _reasons(res) or "a second 'idle'" in _reasons(res)


def test_forged_reply_of_the_last_cell_is_caught_by_the_final_check(worker):
    source = source_nb("def double(x):\n    return 2 * x", ["assert double(3) == 6"])
    answer = FORGE + "\ndef double(x):\n    _forge()\n    return -1"
    res = worker.grade(source, submission(source, answer))
    assert res.cell("t1").points == 0 and res.score == 0
    assert R.PROTOCOL_VIOLATION in res.flags


def test_messages_that_do_not_parse_or_nest_too_deep_are_flagged_not_fatal(worker):
    deep = "b'{\"data\": {\"application/json\": ' + b'[' * 50_000 + b']' * 50_000 + b'}}'"
    stranger = '{"msg_id": "not-a-request-of-the-grader", "msg_type": "execute_request"}'
    extra = [
        new_code_cell(RAW + '\n_raw(b"{this is not json")'),
        new_code_cell(f"_raw({deep})"),
        new_code_cell(
            "import json as _j\n_raw(b'{\"execution_state\": \"idle\"}', 'status', _j.loads("
            + repr(stranger)
            + "))"
        ),
    ]
    res = worker.grade(SOURCE, submission(SOURCE, "def double(x):\n    return 2 * x", extra))
    json.loads(res.to_json())  # a result, as JSON
    reasons = _reasons(res)
    assert "could not be read" in reasons, reasons
    assert "nests deeper than" in reasons or "could not be read (RecursionError)" in reasons
    assert "never sent" in reasons
    assert R.PROTOCOL_VIOLATION in res.flags
    # Both tests ran before the forged messages: their points are not touched.
    assert res.score == 2.0 and res.held_points == 0.0


def test_honest_notebook_has_no_protocol_flags(worker):
    answer = "import threading\n\ndef double(x):\n    print('working')\n    return 2 * x\n"
    answer += "threading.Thread(target=lambda: [print(i) for i in range(3)]).start()"
    res = worker.grade(SOURCE, submission(SOURCE, answer))
    # (The AST policy may hold these points for the thread; the protocol has nothing to say.)
    assert [c.points for c in res.cells] == [1.0, 1.0]
    assert R.PROTOCOL_VIOLATION not in res.flags, res.reasons
    assert not any("kernel protocol" in reason for reason in res.reasons)
