"""The walk of one cell's syntax tree for the AST policy (grader/policy.py): every construct a
cheat needs, reported as a hit with its cell, line and reason. ``Policy`` decides which cells are
walked and what a hit means; this module only finds them."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .policy_ast import (
    bound_by,
    formats_a_built_string,
    is_super_call,
    module_installed,
    root_name,
    strip_magic_options,
)
from .policy_context import called_name, module_construct
from .policy_rules import (
    AMBIGUOUS_MODULE_ATTRIBUTES,
    ATTRIBUTES,
    CLASS_SAFE_DUNDERS,
    CODE_BUILTINS,
    CORE_BUILTINS,
    DOTTED_MODULES,
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
    SERIALIZATION,
    SYS_ATTRIBUTES,
    SYS_STORED,
    UNKNOWN_MODULE,
    UNPICKLING_KEYWORDS,
    Hit,
)
from .policy_scope import is_submodule

if TYPE_CHECKING:
    from .policy import Policy


class CellChecker(ast.NodeVisitor):
    def __init__(self, policy: Policy, cell: int, lines: list[str], aliases: dict[str, str]):
        self.policy = policy
        self.cell = cell
        self.lines = lines
        self.aliases = aliases  # name -> module (imports anywhere, plus names bound to them)
        self.hits: list[Hit] = []
        self._class_depth = 0
        self._self_names: list[str] = []
        self._calls: list[ast.Call] = []

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
        elif isinstance(node.ctx, ast.Load) and name in self.policy.foreign_modules:
            # `_builtins.exec`, `_inspect.stack()`: a flagged module the given code imported,
            # used under its alias (the student's own imports of it are hits already).
            module = self.aliases[name]
            self.hit(node, module_construct(module), f"{name} ({module})")
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

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        # `case object(f_back=caller, __dict__=d)` reads attributes with no Attribute node.
        for attr in node.kwd_attrs:
            self._check_attribute(node, attr, node.cls, stored=False)
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        self._check_annotation(node.annotation)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_annotation(node.annotation)
        self.generic_visit(node)

    def _check_annotation(self, annotation: ast.AST | None) -> None:
        """typing.get_type_hints, functools.singledispatch, pydantic and others evaluate a
        string annotation as code: a literal one is checked like a cell; a name in it must be a
        type (a builtin, an import, a class or def, a name of the given code), since a variable
        or a parameter may hold a string built at run time; a computed one is a hit."""
        if annotation is None:
            return
        for node in ast.walk(annotation):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.hits.extend(
                    self.policy.check_source(self.cell, node.value, self.lines, self.aliases)
                )
            computed = isinstance(node, (ast.Call, ast.JoinedStr, ast.NamedExpr, ast.Lambda))
            variable = isinstance(node, ast.Name) and node.id not in self.policy.type_names
            if computed or variable:
                self.hit(node, DYNAMIC_CODE, "an annotation computed at run time")
                return

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self._check_bound_name(node, node.rest)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._check_bound_name(node, node.name)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        value = node.value.value if isinstance(node.value, ast.Constant) else None
        if node.arg in UNPICKLING_KEYWORDS and value is UNPICKLING_KEYWORDS[node.arg]:
            self.hit(node, SERIALIZATION, f"{node.arg}={value}")
        if node.arg == "style" and value == "{":
            # logging.Formatter(fmt, style='{') is str.format of fmt over the record's values:
            # its fields reach attributes (a literal fmt is checked as a string constant).
            call = self._calls[-1] if self._calls else None  # None: a class keyword
            args, keywords = (call.args, call.keywords) if call else ([], [])
            fmts = [*args[:1], *(k.value for k in keywords if k.arg in ("fmt", "format"))]
            if any(not isinstance(f, ast.Constant) for f in fmts):
                self.hit(node, DYNAMIC_ATTRIBUTE, "a '{' format built at run time")
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

    def _check_attribute(
        self, node: ast.AST, attr: str, base: ast.AST, stored: bool, module: str | None = None
    ) -> None:
        module = module or self._module_of(base)
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
        elif (
            module is None
            and module_construct(attr)
            and attr.lstrip("_") not in AMBIGUOUS_MODULE_ATTRIBUTES
        ):
            # x.builtins where x is a module the scan lost track of ([dataclasses][0]).
            self.hit(node, module_construct(attr), f"{attr} (a module's attribute)")
        elif module is not None and module_construct(attr) and not is_submodule(f"{module}.{attr}"):
            # dataclasses.builtins, numba.core.serialize.pickle: a flagged module that another
            # module imported, reached as its attribute.
            self.hit(node, module_construct(attr), f"{module}.{attr}")
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
        self._calls.append(node)
        try:
            self._visit_call(node)
        finally:
            self._calls.pop()

    def _visit_call(self, node: ast.Call) -> None:
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
        elif called_name(func) == "make_dataclass" and any(
            k.arg in ("bases", "namespace") for k in node.keywords
        ):
            # make_dataclass(..., bases=(int,), namespace={built_name: ...}) is type(n, b, ns).
            self.hit(node, RESULT_TYPE, "make_dataclass with bases or a namespace")
            self.generic_visit(node)
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
                if name in RESULT_DUNDERS or (
                    DUNDER_NAME.match(name) and name not in CLASS_SAFE_DUNDERS
                ):
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
            self._check_attribute(node, a.name, ast.Name(module), stored=False, module=module)
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
        for name, construct in DOTTED_MODULES.items():
            if dotted == name or dotted.startswith(name + "."):
                self.hit(node, construct, dotted)
        construct = module_construct(top)
        if construct:
            if top_only:
                self.hit(node, construct, dotted)
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
