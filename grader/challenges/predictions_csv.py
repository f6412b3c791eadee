"""Parse a predictions CSV in a child process with resource caps (standard library only).

Run as ``python -I -S predictions_csv.py OPTIONS_JSON`` with the file on stdin. The child caps its
own address space, CPU time and file writes before it reads a byte, so a pathological file (huge,
one endless field, millions of empty rows) can only end this child, never the grader. It prints
one JSON object: ``{"ok": true, "ids": [...], "values": [...]}`` or
``{"ok": false, "code": "...", "reason": "..."}``. It never sees the labels: the parent matches
ids and scores.

The file is data: nothing in it is evaluated. Values are read as text, and numbers only through a
strict decimal pattern (``float()`` alone would also take ``1_000``, Arabic-Indic digits or
``infinity``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import resource
import sys

NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII digits only
NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
#: Characters of a bad value quoted in a reason; longer values are cut.
QUOTE_CHARS = 24


class Rejected(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def quote(value: str) -> str:
    """A bad value as shown in a reason: repr (so it starts with a quote mark, never with a
    spreadsheet formula's ``=``), cut to a few characters."""
    if len(value) > QUOTE_CHARS:
        value = value[:QUOTE_CHARS] + "…"
    return repr(value)


def cap_resources(options: dict) -> None:
    memory = options["memory_bytes"]
    cpu = options["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Rejected(
            "bad-encoding", f"the file is not UTF-8 (byte {error.start} cannot be read)"
        ) from None


def read_header(rows, options: dict) -> list[str]:
    id_column, target_column = options["id_column"], options["target_column"]
    header = next(rows, None)
    if header is None:
        raise Rejected("not-csv", "the file is empty")
    header = [name.strip() for name in header]
    if len(header) == 1:
        for separator in (";", "\t", "|"):
            if separator in header[0]:
                raise Rejected("not-csv", f"the columns are separated by {separator!r}; use commas")
    if len(set(header)) != len(header):
        raise Rejected("not-csv", "the header names a column twice")
    for column in (id_column, target_column):
        if column not in header:
            raise Rejected(
                "missing-column",
                f"no column {column!r}; the header must be {id_column},{target_column}",
            )
    extra = [name for name in header if name not in (id_column, target_column)]
    if extra:
        hint = ""
        if extra[0] in ("", "Unnamed: 0"):  # pandas' to_csv() writes its index by default
            hint = " (an unnamed index column: with pandas, write to_csv(..., index=False))"
        raise Rejected(
            "extra-column",
            f"unexpected column {quote(extra[0])}{hint}; the header must be "
            f"{id_column},{target_column} and nothing else",
        )
    return header


def read_value(text: str, kind: str, line: int) -> str | float:
    value = text.strip()
    if kind == "class":
        return value
    if value.lower() in NON_FINITE:
        raise Rejected("nan", f"line {line}: the prediction is {quote(value)}; it must be finite")
    if not NUMBER.fullmatch(value):
        raise Rejected("non-numeric", f"line {line}: the prediction {quote(value)} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise Rejected("nan", f"line {line}: the prediction {quote(value)} overflows")
    if kind == "probability" and not 0.0 <= number <= 1.0:
        raise Rejected(
            "out-of-range", f"line {line}: the probability {quote(value)} is not in [0, 1]"
        )
    return number


def parse(data: bytes, options: dict) -> dict:
    if len(data) > options["max_bytes"]:
        raise Rejected("too-large", f"the file is larger than {options['max_bytes']} bytes")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Rejected("bad-encoding", "the file is UTF-16; save it as UTF-8")
    if b"\x00" in data:
        raise Rejected("not-csv", "the file holds NUL bytes (a binary file?)")
    text = decode(data)
    csv.field_size_limit(options["max_field_chars"])
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = read_header(rows, options)
        id_index = header.index(options["id_column"])
        value_index = header.index(options["target_column"])
        ids: list[str] = []
        values: list[str | float] = []
        for row in rows:
            if not row or row == [""]:
                continue  # blank lines (a trailing newline, or several)
            line = rows.line_num
            if len(row) != len(header):
                raise Rejected(
                    "not-csv", f"line {line} has {len(row)} fields; the header has {len(header)}"
                )
            if len(ids) >= options["max_rows"]:
                raise Rejected("too-large", f"more than {options['max_rows']} rows")
            ids.append(row[id_index].strip())
            values.append(read_value(row[value_index], options["value_kind"], line))
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise Rejected(
                "too-large", f"a field is longer than {options['max_field_chars']} characters"
            ) from None
        raise Rejected("not-csv", f"line {rows.line_num}: {error}") from None
    return {"ok": True, "ids": ids, "values": values}


def main() -> None:
    options = json.loads(sys.argv[1])
    cap_resources(options)
    data = sys.stdin.buffer.read(options["max_bytes"] + 1)
    try:
        answer = parse(data, options)
    except Rejected as rejected:
        answer = {"ok": False, "code": rejected.code, "reason": rejected.reason}
    except MemoryError:
        answer = {"ok": False, "code": "too-large", "reason": "the file needs too much memory"}
    sys.stdout.write(json.dumps(answer, ensure_ascii=True))


if __name__ == "__main__":
    main()
