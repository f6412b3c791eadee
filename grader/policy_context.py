"""What the given code of a source binds and uses (the policy's view of the source), and the
helpers the policy shares about names (grader/policy.py applies them)."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field

from .policy_ast import attributes_read_from, imported_aliases, parse_or_none, top_level_bindings
from .policy_rules import CORE_BUILTINS, MODULES, PRIVATE_MODULES


@dataclass
class Context:
    """What the given (locked) code binds and uses, read from the instructor's source."""

    #: alias -> module, from imports in locked cells.
    module_aliases: dict[str, str] = field(default_factory=dict)
    #: names the student must not rebind at top level.
    protected: set[str] = field(default_factory=set)
    #: attributes the tests and the given code read from modules (np.ones, time.perf_counter):
    #: storing one on any object is a hit, since the object may be that module under a name no
    #: scan follows (a default argument, a parameter, a list, a class attribute).
    module_attributes: set[str] = field(default_factory=set)
    #: names only the tests bind at top level (hidden tests included): a function of the
    #: student's that reads one while a test runs is handed the test's own value.
    test_names: set[str] = field(default_factory=set)
    #: names an annotation may use without being a run-time value of the student's
    type_names: set[str] = field(default_factory=lambda: set(dir(builtins)))

    @classmethod
    def from_cells(cls, locked: Iterable[str], tests: Iterable[str], solutions: Iterable[str]):
        ctx = cls()
        solution_names: set[str] = set()
        given_names: set[str] = set()
        solution_aliases: dict[str, str] = {}
        for code in solutions:
            tree = parse_or_none(code)
            if tree is not None:
                solution_names |= top_level_bindings(tree)
                solution_aliases.update(imported_aliases(tree))
        for code in locked:
            tree = parse_or_none(code)
            if tree is None:
                continue
            ctx.module_aliases.update(imported_aliases(tree))
            ctx.protected |= top_level_bindings(tree)
            given_names |= top_level_bindings(tree)
            ctx.type_names |= top_level_bindings(tree)
        for code in tests:
            tree = parse_or_none(code)
            if tree is None:
                continue
            ctx.test_names |= top_level_bindings(tree)
            ctx.module_aliases.update(imported_aliases(tree))
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            ctx.protected |= used & set(dir(builtins))
        for code in [*locked, *tests]:
            tree = parse_or_none(code)
            if tree is not None:
                ctx.module_attributes |= attributes_read_from(tree, ctx.module_aliases)
        # A module the reference solution imports is one the tests may use: the student may
        # import the same module under that name, never bind something else to it.
        for alias, module in solution_aliases.items():
            ctx.module_aliases.setdefault(alias, module)
        ctx.protected |= CORE_BUILTINS | set(solution_aliases)
        ctx.protected -= solution_names - CORE_BUILTINS - set(ctx.module_aliases)
        ctx.test_names -= given_names | solution_names | set(dir(builtins))
        return ctx


def module_construct(module: str) -> str | None:
    """The construct of a flagged module (by its top-level package), else None. A private C
    module stands for its public one (``_signal`` is signal, ``_lsprof`` is cProfile)."""
    top = module.split(".")[0]
    return MODULES.get(top) or PRIVATE_MODULES.get(top) or MODULES.get(top.lstrip("_"))


def called_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def type_names(tree: ast.AST) -> set[str]:
    """Names a tree binds by import, class or def (anywhere): what an annotation may name."""
    names = set(imported_aliases(tree))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names
