"""An AST-level policy on every cell the student controls (see "Threat model" in docs/grader.md).

The student's code shares one interpreter with the tests, so anything that lets it reach the
test's frames, the shell or kernel objects, the input history, the import machinery, the
namespace by computed names, or the comparisons themselves can change a verdict. The policy does
not try to prove a submission honest: it lists the constructs such cheats need and reports each
one (cell, line, construct, why). Points of the cells graded after a hit are held for review.

Names are checked on the parsed tree, so spelling does not matter (unicode identifiers are
NFKC-normalised by the parser; aliases of modules are tracked), and what cannot be resolved
statically (``getattr`` with a computed name, ``exec`` of a built string, ``__builtins__``) is a
hit in itself. An instructor can allow constructs an exercise needs with the source notebook's
metadata ``kernelcamp.allow`` (construct names or specific names, e.g. ``["getattr", "threading"]``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from .policy_ast import (
    TooDeep,
    imported_aliases,
    parse_cell,
    propagate_aliases,
    top_level_bindings,
)
from .policy_checker import CellChecker
from .policy_context import Context, module_construct, type_names
from .policy_rules import (
    REBIND,
    TEST_NAMESPACE,
    UNCHECKED,
    Hit,
)
from .policy_scope import global_reads


class Policy:
    """Checks the cells a student controls against a Context read from the source."""

    def __init__(self, context: Context | None = None, allow: Iterable[str] = ()) -> None:
        self.context = context or Context.from_cells([], [], [])
        self.allow = frozenset(allow)
        self.line_offset = 0
        self._top_names: set[str] = set()
        #: given aliases of flagged modules (_builtins, _inspect) the student did not import
        self.foreign_modules: set[str] = set()
        #: names an annotation may use: builtins, imports, classes and defs, the given code's
        self.type_names: set[str] = set()

    def top_level_store(self, name: str) -> bool:
        return name in self._top_names and name in self.context.protected

    def check(self, cells: list[tuple[int, str]]) -> list[Hit]:
        """Hits in the given cells (notebook index, source), in notebook order."""
        aliases = dict(self.context.module_aliases)
        trees = []
        hits: list[Hit] = []
        for index, source in cells:
            try:
                tree = parse_cell(source)
                if tree is None:
                    continue  # a cell that does not parse does not run either
                aliases.update(imported_aliases(tree))
                propagate_aliases(tree, aliases)
            except (TooDeep, RecursionError, MemoryError):
                hits.append(_too_deep(index))
                continue
            trees.append((index, source, tree))
        student_imports = {n for _, _, t in trees for n in imported_aliases(t)}
        self.foreign_modules = {
            name
            for name, module in self.context.module_aliases.items()
            if module_construct(module) and name not in student_imports
        }
        self.type_names = self.context.type_names | {n for _, _, t in trees for n in type_names(t)}
        for index, source, _tree in trees:
            hits.extend(self._test_namespace_hits(index, source))
        for index, source, tree in trees:
            try:
                hits.extend(self._check_tree(index, tree, source.splitlines(), aliases))
            except (TooDeep, RecursionError, MemoryError):
                hits.append(_too_deep(index))
        return sorted(hits, key=lambda h: (h.cell, h.line))

    def _test_namespace_hits(self, index: int, source: str) -> list[Hit]:
        if TEST_NAMESPACE in self.allow:
            return []
        lines = source.splitlines()
        hits = []
        for line, name in global_reads(source):
            if name in self.context.test_names and name not in self.allow:
                code = lines[line - 1] if 0 < line <= len(lines) else ""
                hits.append(Hit(index, line, TEST_NAMESPACE, name, code))
        return hits

    def check_source(
        self, cell: int, code: str, lines: list[str], aliases: dict[str, str]
    ) -> list[Hit]:
        tree = parse_cell(code)  # TooDeep propagates to check()
        if tree is None:
            return []
        return self._check_tree(cell, tree, lines, aliases)

    def _check_tree(
        self, cell: int, tree: ast.Module, lines: list[str], aliases: dict[str, str]
    ) -> list[Hit]:
        checker = CellChecker(self, cell, lines, aliases)
        saved = self._top_names
        self._top_names = top_level_bindings(tree) | {
            name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names
        }
        try:
            for stmt in tree.body:
                is_def = isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                if is_def and stmt.name in self.context.protected:
                    checker.hit(stmt, REBIND, stmt.name)
            checker.visit(tree)
        finally:
            self._top_names = saved
        unique: dict[tuple, Hit] = {}
        for hit in checker.hits:
            unique.setdefault((hit.cell, hit.line, hit.construct, hit.name), hit)
        return list(unique.values())


def _too_deep(cell: int) -> Hit:
    return Hit(cell, 1, UNCHECKED, "the whole cell", "")


def policy_for(
    locked: Iterable[str],
    tests: Iterable[str],
    solutions: Iterable[str],
    allow: Iterable[str] = (),
) -> Policy:
    return Policy(Context.from_cells(locked, tests, solutions), allow)
