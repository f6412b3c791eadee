"""Scope and module questions the policy asks of a cell (grader/policy.py applies them).

- Which globals a function reads: a function the tests call runs inside the test, in the same
  namespace, so a global it reads that only the tests bind (``expected``, hidden tests included)
  is the test's own value handed to the answer.
- Whether ``package.name`` is a submodule of the package (``numba.types``) or a module the
  package merely imported (``numba.core.serialize.pickle``, ``dataclasses.builtins``): the
  second is the flagged module under a name the import checks never see.
"""

from __future__ import annotations

import functools
import symtable
import sys
from importlib.machinery import PathFinder

from .policy_ast import python_source

#: Comprehensions at module level run when the cell runs, not later inside a test.
_EAGER = {"listcomp", "setcomp", "dictcomp"}


def global_reads(code: str) -> list[tuple[int, str]]:
    """(line of the function, name) for each global read inside a function, lambda or generator
    of the cell. Cells that do not compile, or are nested too deeply, give nothing here (the
    AST check reports those)."""
    try:
        table = symtable.symtable(python_source(code), "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[tuple[int, str]] = []
    stack = [(child, True) for child in table.get_children()]
    while stack:
        current, at_top = stack.pop()
        eager = at_top and current.get_name() in _EAGER
        if current.get_type() == "function" and not eager:
            for sym in current.get_symbols():
                if sym.is_referenced() and sym.is_global() and not sym.is_assigned():
                    found.append((current.get_lineno(), sym.get_name()))
        stack.extend((child, eager) for child in current.get_children())
    return found


@functools.lru_cache(maxsize=1024)
def is_submodule(dotted: str) -> bool:
    """Whether ``a.b.c`` names a module file of package ``a.b`` (found without importing)."""
    parts = dotted.split(".")
    if parts[0] in sys.builtin_module_names:
        return False
    paths = [p for p in sys.path if p and p != "."]
    try:
        spec = PathFinder.find_spec(parts[0], paths)
        for part in parts[1:]:
            locations = spec.submodule_search_locations if spec else None
            if not locations:
                return False
            spec = PathFinder.find_spec(part, list(locations))
    except (ImportError, ValueError):
        return False
    return spec is not None
