"""CSV cells that a spreadsheet program opens as text, never as a formula.

Exports (results, audit log, gradebook) carry names people typed: a team, a project title, a
username. A cell starting with = + - @ (or a tab or carriage return) is run as a formula by
Excel and LibreOffice ("CSV injection"); a leading apostrophe keeps it text.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: object) -> object:
    """The cell for a typed-in string; numbers and empty values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
