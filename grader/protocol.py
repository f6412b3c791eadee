"""Checks on the messages a kernel sends, before the grader believes any of them.

The student's code runs inside the kernel and holds the kernel's session key, so it can send
any message the kernel could: a forged ``execute_reply``, a forged ``idle`` status, an output
nested 50,000 levels deep, content that is not JSON. Nothing here trusts a message because it is
signed; every message is checked for shape and bounds, and ``Executor`` (grader/execute.py)
checks the order of what it accepts.
"""

from __future__ import annotations

from .limits import BOUNDS

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


def output_size(msg: dict) -> int:
    """Characters an output message would add to the notebook (a checked message)."""
    content = msg["content"]
    if msg["msg_type"] == "stream":
        return len(content["text"])
    if msg["msg_type"] == "error":
        return (
            len(content.get("ename", ""))
            + len(content.get("evalue", ""))
            + sum(len(line) for line in content.get("traceback", []))
        )
    total = 0
    for value in content.get("data", {}).values():
        total += len(value) if isinstance(value, str) else len(repr(value))
    return total
