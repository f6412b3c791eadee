"""Reading cells for the policy: parsing as IPython would run them, what a statement binds, which
names are modules (grader/policy.py checks the trees)."""

from __future__ import annotations

import ast
import functools
import sys
from importlib.machinery import PathFinder

from .policy_rules import DUNDER_NAME
from .pyparse import parse


class TooDeep(Exception):
    """The cell is nested too deeply to parse or walk here (the kernel may still run it)."""


def parse_cell(code: str) -> ast.Module | None:
    try:
        try:
            return parse(python_source(code))
        except (SyntaxError, ValueError):
            # IPython still runs some cells Python rejects: it strips a common indent and
            # `>>> ` prompts and expands `/f x` escapes. Check what it would run.
            return parse(ipython_source(code))
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError) as exc:
        raise TooDeep from exc


def parse_or_none(code: str) -> ast.Module | None:
    try:
        return parse_cell(code)
    except TooDeep:
        return None


@functools.lru_cache(maxsize=4096)
def python_source(code: str) -> str:
    """The cell as IPython would run it (magics become get_ipython() calls)."""
    if "%" not in code and "!" not in code and "?" not in code:
        return code
    return ipython_source(code)


@functools.lru_cache(maxsize=1024)
def ipython_source(code: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(code)
    except Exception:  # noqa: BLE001 - an untransformable cell is parsed as plain Python
        return code


def top_level_bindings(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        names |= bound_by(node)
    return names


def bound_by(node: ast.stmt) -> set[str]:
    names: set[str] = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    # Assignments, for/with targets, walrus: every Name stored outside nested scopes.
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Store):
            names.add(current.id)
        elif isinstance(current, (ast.MatchAs, ast.MatchStar)) and current.name:
            names.add(current.name)  # `case np:` binds np like an assignment
        elif isinstance(current, ast.MatchMapping) and current.rest:
            names.add(current.rest)
        elif isinstance(current, ast.ExceptHandler) and current.name:
            names.add(current.name)
        for child in ast.iter_child_nodes(current):
            if not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
            ):
                stack.append(child)
            elif not isinstance(child, ast.Lambda):
                names.add(child.name)
    return names


def attributes_read_from(tree: ast.AST, aliases: dict[str, str]) -> set[str]:
    """Every attribute in a chain rooted at a module alias: np.testing.assert_allclose."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and root_name(node) in aliases:
            if not DUNDER_NAME.match(node.attr):
                found.add(node.attr)
    return found


def imported_aliases(tree: ast.AST) -> dict[str, str]:
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name != "*":
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


@functools.lru_cache(maxsize=1024)
def module_installed(top: str) -> bool:
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return True
    paths = [p for p in sys.path if p and p != "."]
    try:
        return PathFinder.find_spec(top, paths) is not None
    except (ImportError, ValueError):
        return False


def formats_a_built_string(func: ast.AST) -> bool:
    """``x.format(...)``/``format_map`` where x is not a string literal (whose fields are checked)."""
    if not (isinstance(func, ast.Attribute) and func.attr in ("format", "format_map")):
        return False
    receiver = func.value
    return not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str))


def is_super_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.NamedExpr)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def strip_magic_options(line: str) -> str:
    words = line.split()
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] in ("-n", "-r", "-p", "-o") and len(words) > 1 else words[1:]
    return " ".join(words)


def propagate_aliases(tree: ast.Module, aliases: dict[str, str]) -> None:
    """``t = np.testing`` or ``for t in (np.testing,)``: t now names (part of) a module."""
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        values: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets, values = node.targets, [node.value]
        elif isinstance(node, (ast.For, ast.comprehension)):
            targets = [node.target]
            values = list(node.iter.elts) if isinstance(node.iter, (ast.Tuple, ast.List)) else []
        elif isinstance(node, ast.NamedExpr):
            targets, values = [node.target], [node.value]
        for value in values:
            root = root_name(value)
            if root in aliases and isinstance(value, (ast.Name, ast.Attribute)):
                for target in targets:
                    if isinstance(target, ast.Name):
                        aliases[target.id] = aliases[root]
