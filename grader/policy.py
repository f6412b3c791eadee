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
import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field

from .policy_ast import (
    TooDeep,
    attributes_read_from,
    bound_by,
    formats_a_built_string,
    imported_aliases,
    is_super_call,
    module_installed,
    parse_cell,
    parse_or_none,
    propagate_aliases,
    root_name,
    strip_magic_options,
    top_level_bindings,
)
from .policy_rules import (
    ATTRIBUTES,
    CODE_BUILTINS,
    CORE_BUILTINS,
    DUNDER,
    DUNDER_NAME,
    DYNAMIC_ATTRIBUTE,
    DYNAMIC_CODE,
    FORMAT_ATTRIBUTE,
    HISTORY,
    HISTORY_NAME,
    IMPORT_MACHINERY,
    LITERAL_ONLY,
    MAGIC,
    MAGIC_CALLS,
    MODULE_FILES,
    MODULES,
    MONKEYPATCH,
    NAMES,
    NATIVE,
    PROCESSES,
    PROTECTED_ATTRIBUTES,
    REBIND,
    RESULT_BASES,
    RESULT_DUNDERS,
    RESULT_TYPE,
    SAFE_DUNDERS,
    SAFE_MAGICS,
    SYS_ATTRIBUTES,
    SYS_STORED,
    UNCHECKED,
    UNKNOWN_MODULE,
    Hit,
)


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

    @classmethod
    def from_cells(cls, locked: Iterable[str], tests: Iterable[str], solutions: Iterable[str]):
        ctx = cls()
        solution_names: set[str] = set()
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
        for code in tests:
            tree = parse_or_none(code)
            if tree is None:
                continue
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
        return ctx


class _Checker(ast.NodeVisitor):
    def __init__(self, policy: Policy, cell: int, lines: list[str], aliases: dict[str, str]):
        self.policy = policy
        self.cell = cell
        self.lines = lines
        self.aliases = aliases  # name -> module (imports anywhere, plus names bound to them)
        self.hits: list[Hit] = []
        self._class_depth = 0
        self._self_names: list[str] = []

    # -- reporting
    def hit(self, node: ast.AST, construct: str, name: str) -> None:
        if construct in self.policy.allow or name in self.policy.allow:
            return
        line = getattr(node, "lineno", 1) + self.policy.line_offset
        code = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        self.hits.append(Hit(self.cell, line, construct, name, code))

    def _module_of(self, node: ast.AST) -> str | None:
        root = root_name(node)
        return self.aliases.get(root) if root else None

    # -- names
    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name in NAMES:
            self.hit(node, NAMES[name], name)
        elif HISTORY_NAME.match(name):
            self.hit(node, HISTORY, name)
        elif name in LITERAL_ONLY or name in CODE_BUILTINS:
            # Reached here only when not the callee of a checked call: an alias of the builtin.
            construct = DYNAMIC_CODE if name in CODE_BUILTINS else DYNAMIC_ATTRIBUTE
            self.hit(node, construct, name)
        elif DUNDER_NAME.match(name) and name not in SAFE_DUNDERS:
            self.hit(node, DUNDER, name)
        elif name == "type" and isinstance(node.ctx, ast.Load):
            # Reached here only when not the callee of type(x): an alias that builds classes.
            self.hit(node, RESULT_TYPE, "type")
        if isinstance(node.ctx, ast.Store) and self.policy.top_level_store(name):
            self.hit(node, REBIND, name)

    def _check_bound_name(self, node: ast.AST, name: str | None) -> None:
        if name and self.policy.top_level_store(name):
            self.hit(node, REBIND, name)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self._check_bound_name(node, node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        self._check_bound_name(node, node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self._check_bound_name(node, node.rest)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._check_bound_name(node, node.name)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        # dict(__eq__=...) builds a class namespace no class statement shows.
        if node.arg and DUNDER_NAME.match(node.arg) and node.arg not in SAFE_DUNDERS:
            construct = RESULT_TYPE if node.arg in RESULT_DUNDERS else DUNDER
            self.hit(node, construct, node.arg)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in self.policy.context.protected or name in self.policy.context.module_aliases:
                self.hit(node, REBIND, name)

    # -- attributes
    def visit_Attribute(self, node: ast.Attribute) -> None:
        stored = isinstance(node.ctx, (ast.Store, ast.Del))
        self._check_attribute(node, node.attr, node.value, stored)
        self.generic_visit(node)

    def _check_attribute(self, node: ast.AST, attr: str, base: ast.AST, stored: bool) -> None:
        module = self._module_of(base)
        is_sys = module == "sys" or (isinstance(base, ast.Attribute) and base.attr == "sys")
        if attr in ATTRIBUTES:
            self.hit(node, ATTRIBUTES[attr], attr)
        elif attr == "sys" and module is not None:
            # os.sys is the sys module under a name the checks on sys do not see.
            self.hit(node, IMPORT_MACHINERY, f"{module}.sys")
        elif is_sys and attr in SYS_ATTRIBUTES:
            self.hit(node, SYS_ATTRIBUTES[attr], f"sys.{attr}")
        elif module == "sys" and attr in SYS_STORED and stored:
            self.hit(node, IMPORT_MACHINERY, f"sys.{attr}")
        elif DUNDER_NAME.match(attr) and attr not in SAFE_DUNDERS:
            self.hit(node, DUNDER, attr)
        elif attr == "__init__" and not is_super_call(base):
            # Klass.__init__(module) runs an __init__ whose self is that module.
            self.hit(node, DUNDER, attr)
        elif attr == "ma" and module is not None and module.split(".")[0] == "numpy":
            self.hit(node, RESULT_TYPE, "numpy.ma")
        if stored:
            owner = root_name(base)
            if module is not None:
                self.hit(node, MONKEYPATCH, f"{module}.{attr}")
            elif attr.startswith("assert") or (
                owner not in self._self_names
                and (
                    attr in PROTECTED_ATTRIBUTES
                    or attr in CORE_BUILTINS
                    or attr in self.policy.context.module_attributes
                )
            ):
                self.hit(node, MONKEYPATCH, attr)

    # -- calls
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in LITERAL_ONLY:
            self._check_literal_attribute_call(node, func.id)
        elif isinstance(func, ast.Name) and func.id in CODE_BUILTINS:
            self._check_code_call(node, func.id)
        elif isinstance(func, ast.Name) and func.id == "type":
            plain = len(node.args) == 1 and not node.keywords
            if not plain or isinstance(node.args[0], ast.Starred):
                self.hit(node, RESULT_TYPE, "type(name, bases, namespace)")
            for child in [*node.args, *node.keywords]:
                self.visit(child)
        elif self._is_magic(node):
            self._check_magic(node)
        else:
            if formats_a_built_string(func):
                # '{0.__trace' + 'back__.tb_frame}'.format(e): the field names are only known
                # at run time, and str.format follows them to frames and globals.
                self.hit(node, DYNAMIC_ATTRIBUTE, f"str.{func.attr} of a built string")
            self.generic_visit(node)

    def _check_literal_attribute_call(self, node: ast.Call, name: str) -> None:
        args = node.args
        if len(args) >= 2 and isinstance(args[1], ast.Constant) and isinstance(args[1].value, str):
            self._check_attribute(
                node, args[1].value, args[0], stored=name in ("setattr", "delattr")
            )
            for child in [args[0], *args[2:], *node.keywords]:
                self.visit(child)
        else:
            self.hit(node, DYNAMIC_ATTRIBUTE, name)
            self.generic_visit(node)

    def _check_code_call(self, node: ast.Call, name: str) -> None:
        literal = node.args[0] if node.args else None
        if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
            self.hits.extend(
                self.policy.check_source(self.cell, literal.value, self.lines, self.aliases)
            )
            for child in [*node.args[1:], *node.keywords]:
                self.visit(child)
        else:
            self.hit(node, DYNAMIC_CODE, name)
            self.generic_visit(node)

    @staticmethod
    def _is_magic(node: ast.Call) -> bool:
        func = node.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr in MAGIC_CALLS
            and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "get_ipython"
            and bool(node.args)
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)
        )

    def _check_magic(self, node: ast.Call) -> None:
        kind, args = node.func.attr, [a.value for a in node.args]
        if kind in ("system", "getoutput"):
            self.hit(node, PROCESSES, "!" + args[0].split(" ")[0])
            return
        name = args[0]
        if name not in SAFE_MAGICS:
            self.hit(node, MAGIC, "%" + name)
            return
        # %time/%timeit run their line (after options) or cell body as code.
        body = args[2] if kind == "run_cell_magic" and len(args) > 2 else ""
        line = args[1] if len(args) > 1 else ""
        code = "\n".join(part for part in (strip_magic_options(line), body) if part.strip())
        if name in ("time", "timeit", "capture") and code:
            self.hits.extend(self.policy.check_source(self.cell, code, self.lines, self.aliases))

    # -- definitions
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            last = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
            if last in RESULT_BASES and last != "object":
                self.hit(base, RESULT_TYPE, f"subclass of {last}")
            elif last is None:
                self.hit(base, RESULT_TYPE, "a computed base class")
        for keyword in node.keywords:
            self.hit(keyword, RESULT_TYPE, f"class keyword {keyword.arg}")
        for stmt in node.body:
            for name in bound_by(stmt):
                if name in RESULT_DUNDERS:
                    self.hit(stmt, RESULT_TYPE, f"{node.name}.{name}")
        self._class_depth += 1
        self.generic_visit(node)
        self._class_depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if self._class_depth == 0 and node.name in RESULT_DUNDERS:
            self.hit(node, RESULT_TYPE, node.name)
        params = node.args.posonlyargs + node.args.args
        # Only an __init__'s self is surely a new instance (and calling Klass.__init__ is a
        # hit): any other method can be called through the class with a module as self.
        pushed = self._class_depth > 0 and bool(params) and node.name == "__init__"
        if pushed:
            self._self_names.append(params[0].arg)
        saved_depth, self._class_depth = self._class_depth, 0
        self.generic_visit(node)
        self._class_depth = saved_depth
        if pushed:
            self._self_names.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    # -- imports
    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self._check_module(node, a.name)
            self._check_import_binding(node, (a.asname or a.name.split(".")[0]), a.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.hit(node, UNKNOWN_MODULE, "." * node.level + (node.module or ""))
            return
        module = node.module or ""
        self._check_module(node, module)
        for a in node.names:
            if a.name == "*":
                continue
            self._check_module(node, f"{module}.{a.name}", top_only=False)
            self._check_attribute(node, a.name, ast.Name(module.split(".")[0]), stored=False)
            if module == "sys" and a.name in SYS_ATTRIBUTES:
                self.hit(node, SYS_ATTRIBUTES[a.name], f"sys.{a.name}")
            if a.name in NAMES or a.name in LITERAL_ONLY or a.name in CODE_BUILTINS:
                self.hit(node, NAMES.get(a.name, DYNAMIC_ATTRIBUTE), a.name)
            self._check_import_binding(node, a.asname or a.name, f"{module}.{a.name}")

    def _check_module(self, node: ast.AST, dotted: str, top_only: bool = True) -> None:
        parts = dotted.split(".")
        if parts[0] == "numpy" and "ma" in parts[1:]:
            # numpy.testing ignores masked elements: a fully masked array equals anything.
            # (numpy.lib.recfunctions re-exports numpy.ma as .ma)
            self.hit(node, RESULT_TYPE, "numpy.ma")
        top = dotted.split(".")[0]
        if top in MODULES:
            if top_only:
                self.hit(node, MODULES[top], dotted)
            return
        if top_only and not module_installed(top):
            self.hit(node, UNKNOWN_MODULE, top)

    def _check_import_binding(self, node: ast.AST, name: str, module: str) -> None:
        given = self.policy.context.module_aliases.get(name)
        if given is not None and given != module:
            self.hit(node, REBIND, f"{name} (given as {given}, imported as {module})")

    # -- strings that name what the checks above look for
    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str) and len(value) < 64:
            if DUNDER_NAME.match(value) and value not in SAFE_DUNDERS - RESULT_DUNDERS:
                self.hit(node, DUNDER, value)
            elif value in NAMES or (value in ATTRIBUTES and "_" in value):
                self.hit(node, NAMES.get(value) or ATTRIBUTES[value], value)
            elif value.startswith("_") and HISTORY_NAME.match(value):
                self.hit(node, HISTORY, value)
            elif "{" in value:
                # str.format reaches attributes: '{0.gi_frame.f_back.f_locals}'.format(g)
                for field_name in FORMAT_ATTRIBUTE.findall(value):
                    if field_name in ATTRIBUTES or (
                        DUNDER_NAME.match(field_name) and field_name not in SAFE_DUNDERS
                    ):
                        self.hit(node, ATTRIBUTES.get(field_name, DUNDER), field_name)
            elif value.startswith(("/proc/", "/dev/mem")):
                # /proc/self/mem writes the interpreter's own memory.
                self.hit(node, NATIVE, value)
            elif value.endswith(MODULE_FILES):
                # A module file written now and imported later is code no scan has seen.
                self.hit(node, IMPORT_MACHINERY, value)


class Policy:
    """Checks the cells a student controls against a Context read from the source."""

    def __init__(self, context: Context | None = None, allow: Iterable[str] = ()) -> None:
        self.context = context or Context.from_cells([], [], [])
        self.allow = frozenset(allow)
        self.line_offset = 0
        self._top_names: set[str] = set()

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
        for index, source, tree in trees:
            try:
                hits.extend(self._check_tree(index, tree, source.splitlines(), aliases))
            except (TooDeep, RecursionError, MemoryError):
                hits.append(_too_deep(index))
        return sorted(hits, key=lambda h: (h.cell, h.line))

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
        checker = _Checker(self, cell, lines, aliases)
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
