"""Checks on the messages a kernel sends, before the grader believes any of them.

The student's code runs inside the kernel and holds the kernel's session key, so it can send
any message the kernel could: a forged ``execute_reply``, a forged ``idle`` status, an output
nested 50,000 levels deep, content that is not JSON. Nothing here trusts a message because it is
signed; every message is checked for shape and bounds (``message_problem``), and ``Ledger``
checks the order of what is accepted for the requests ``Executor`` (grader/execute.py) sends.
"""

from __future__ import annotations

from .limits import BOUNDS
from .outputs import OutputAccount, Request, apply_failure

OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")
REPLY_STATUSES = ("ok", "error", "aborted")


def json_depth_exceeds(value: object, limit: int) -> bool:
    """Whether ``value`` (parsed JSON) nests deeper than ``limit``; iterative, so any depth is
    safe to ask about."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _data_problem(content: dict) -> str | None:
    data = content.get("data")
    if not isinstance(data, dict):
        return "its 'data' is not a mapping"
    for mime, value in data.items():
        if not isinstance(mime, str):
            return "a MIME type is not a string"
        if mime.endswith("json"):
            continue  # any JSON value (depth checked for the whole message)
        if not isinstance(value, str) and not _is_str_list(value):
            return f"its {mime!r} value is not text"
    if not isinstance(content.get("metadata", {}), dict):
        return "its 'metadata' is not a mapping"
    return None


def message_problem(msg: object) -> str | None:
    """Why a deserialized message cannot be used, or None when its shape is sound."""
    if not isinstance(msg, dict):
        return "the message is not a mapping"
    kind = msg.get("msg_type")
    if not isinstance(kind, str):
        return "the message has no type"
    for part in ("header", "parent_header", "content", "metadata"):
        if not isinstance(msg.get(part, {}), dict):
            return f"its {part} is not a mapping"
    parent_id = msg.get("parent_header", {}).get("msg_id")
    if parent_id is not None and not isinstance(parent_id, str):
        return "its parent's id is not a string"
    content = msg.get("content", {})
    if json_depth_exceeds(content, BOUNDS.max_message_depth):
        return f"its content nests deeper than {BOUNDS.max_message_depth} levels"
    if kind == "status":
        if content.get("execution_state") not in ("busy", "idle", "starting"):
            return "a status message without a valid execution_state"
    elif kind == "stream":
        if content.get("name") not in ("stdout", "stderr") or not isinstance(
            content.get("text"), str
        ):
            return "a stream message without a stream name and text"
    elif kind in ("display_data", "execute_result"):
        problem = _data_problem(content)
        if problem:
            return f"a {kind} message: {problem}"
    elif kind == "error":
        if not isinstance(content.get("ename", ""), str) or not isinstance(
            content.get("evalue", ""), str
        ):
            return "an error message whose name or value is not text"
        if not _is_str_list(content.get("traceback", [])):
            return "an error message whose traceback is not a list of lines"
    elif kind == "execute_reply":
        if content.get("status") not in REPLY_STATUSES:
            return "an execute_reply without a valid status"
    elif kind == "clear_output":
        if not isinstance(content.get("wait", False), bool):
            return "a clear_output message whose 'wait' is not true or false"
    return None


class Ledger:
    """The requests sent to one kernel and the protocol's bookkeeping for them.

    A cell's verdict comes only after both its ``execute_reply`` (shell) and its ``idle``
    (iopub) have arrived. A second reply or status for one request, an idle before busy, an
    output or error after idle, a message answering a request the grader never sent, or one that
    cannot be parsed is a *violation*: never trusted, recorded with a reason on the request's run
    (its points are then held for review).
    """

    def __init__(self, outputs: OutputAccount) -> None:
        self.outputs = outputs
        #: Every violation, as "cell N: reason", for the result's reasons.
        self.violations: list[str] = []
        #: Output dropped because it arrived after its cell had finished (threads printing late).
        self.late_outputs = 0
        self.requests: dict[str, Request] = {}
        self.order: list[Request] = []
        #: The request whose outputs are being collected, and the last one that completed.
        self.current: Request | None = None
        self.last_done: Request | None = None

    def add(self, req: Request) -> None:
        self.requests[req.msg_id] = req
        self.order.append(req)
        self.current = req

    def dispatch(self, channel: str, msg: dict) -> None:
        """Account for one checked message from the shell or iopub channel."""
        kind = msg["msg_type"]
        parent = msg.get("parent_header", {})
        req = self.requests.get(parent.get("msg_id"))
        if req is None:
            if parent.get("msg_type") == "execute_request":
                self.blame_unknown(f"a {kind} message answered a request the grader never sent")
            return  # start-up status, kernel_info from the sandbox: not ours, not trusted
        content = msg.get("content", {})
        if channel == "shell":
            if kind == "execute_reply":
                self._reply(req, content)
            return
        if kind == "status":
            self._status(req, content["execution_state"])
            return
        if req.idle:
            if kind in ("stream", "display_data", "clear_output"):
                self.late_outputs += 1  # a thread printing after its cell: dropped, harmless
                return
            self.violate(req, f"a {kind} message arrived after the cell had finished (idle)")
            if kind == "error":
                apply_failure(req, content)
            return
        if req is not self.current:
            if kind == "error":
                apply_failure(req, content)
            return
        if kind == "execute_input":
            if not req.busy:
                self.violate(req, "execute_input arrived before the 'busy' status")
            return
        self.outputs.output(req, msg)

    def _reply(self, req: Request, content: dict) -> None:
        if req.reply is not None:
            self.violate(req, "a second execute_reply arrived for one request")
            if content["status"] != "ok":
                apply_failure(req, content)
            return
        req.reply = content
        if req is not self.current and content["status"] != "ok":
            apply_failure(req, content)  # a late genuine failure

    def _status(self, req: Request, state: str) -> None:
        if state == "busy":
            if req.busy or req.idle:
                self.violate(req, "a second 'busy' status arrived for one request")
            req.busy = True
        elif state == "idle":
            if req.idle:
                self.violate(req, "a second 'idle' status arrived for one request")
            elif not req.busy:
                self.violate(req, "an 'idle' status arrived before 'busy'")
            req.idle = True

    def blame_unknown(self, text: str) -> None:
        """A message that belongs to no request (or cannot be read): the running or last cell
        is the one that could have sent it."""
        target = self.current or self.last_done
        if target is not None:
            self.violate(target, text)
        else:
            self.violations.append(f"before any cell: {text}")

    def violate(self, req: Request, text: str) -> None:
        if text in req.run.violations:
            return
        req.run.violations.append(text)
        self.violations.append(f"{req.label or 'a check between cells'}: {text}")
        if req.label is None:
            # A grader request (the canary) was answered with forged messages: the cell that
            # follows it is the one whose verdict they were meant to change.
            index = self.order.index(req)
            for later in self.order[index + 1 :]:
                if later.label is not None:
                    if text not in later.run.violations:
                        later.run.violations.append(f"before it: {text}")
                    break

    def suspect_previous(self, req: Request) -> None:
        """The kernel never started this request before it stopped: it was still busy with
        an earlier one, whose reply and idle were then not the kernel's own."""
        if req.busy:
            return
        index = self.order.index(req)
        for earlier in reversed(self.order[:index]):
            if earlier.reply is not None and earlier.idle:
                self.violate(
                    earlier,
                    "the kernel was still busy with this cell after its reply and idle had "
                    "arrived, so they were forged",
                )
                return

    def hold_after_first_violation(self) -> None:
        """Code that forged kernel messages once may have changed the kernel for good: every
        later cell's verdict is held too."""
        first = next((r for r in self.order if r.run.violations), None)
        if first is None:
            return
        where = first.label or "a check between cells"
        for req in self.order[self.order.index(first) + 1 :]:
            if req.label is not None and not req.run.violations:
                req.run.violations.append(f"{where} earlier sent forged kernel messages")
