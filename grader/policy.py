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
import functools
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.machinery import PathFinder

# Construct names (also what kernelcamp.allow may list).
DYNAMIC_ATTRIBUTE = "dynamic-attribute"
DYNAMIC_NAMESPACE = "dynamic-namespace"
DYNAMIC_CODE = "dynamic-code"
FRAMES = "frames"
SHELL = "shell"
HISTORY = "input-history"
IMPORT_MACHINERY = "import-machinery"
UNKNOWN_MODULE = "unknown-module"
RESULT_TYPE = "result-type"
DUNDER = "dunder"
MONKEYPATCH = "monkeypatch"
REBIND = "rebind"
NATIVE = "native-code"
SIGNALS = "signals"
CONCURRENCY = "concurrency"
PROCESSES = "processes"
MAGIC = "magic"
SERIALIZATION = "serialization"
UNCHECKED = "unchecked"

WHY = {
    DYNAMIC_ATTRIBUTE: "reaches attributes by a name computed at run time, which no scan can check",
    DYNAMIC_NAMESPACE: "reads or writes a namespace as a dictionary (globals, vars, __dict__)",
    DYNAMIC_CODE: "runs code built at run time (exec/eval/compile), which no scan can check",
    FRAMES: "reaches stack frames or tracebacks, where the tests' own values and source live",
    SHELL: "reaches the IPython shell or kernel that runs the tests",
    HISTORY: "reads the input history, which holds the tests' source (hidden tests included)",
    IMPORT_MACHINERY: "changes or bypasses the import machinery or the builtins module",
    UNKNOWN_MODULE: "imports a module that is not installed (possibly a file the submission wrote)",
    RESULT_TYPE: "defines a type whose comparisons or conversions can make a test pass",
    DUNDER: "uses a special attribute that reaches interpreter internals",
    MONKEYPATCH: "assigns into a module (or a name the tests call), changing what the tests run",
    REBIND: "rebinds a name the given code or the tests rely on",
    NATIVE: "loads native code, which can rewrite the interpreter's memory",
    SIGNALS: "installs signal handlers, which can interrupt or alter the tests",
    CONCURRENCY: "runs code concurrently with the tests (threads, processes, event loop, hooks)",
    PROCESSES: "starts or signals processes",
    MAGIC: "uses an IPython magic or shell command that can reach the kernel or the history",
    SERIALIZATION: "deserialises objects, which can call any function by name",
    UNCHECKED: "is nested too deeply for the policy to check",
}

_FORMAT_ATTRIBUTE = re.compile(r"[.\[](\w+)")
_HISTORY_NAME = re.compile(r"^(_i+|_i\d+|_ii+|_\d+|_oh|_ih|_dh|In|Out)$")
_DUNDER = re.compile(r"^__\w+__$")

#: Names (variables and builtins) whose mere mention is a hit.
NAMES: dict[str, str] = {
    "get_ipython": SHELL,
    "__builtins__": IMPORT_MACHINERY,
    "__builtin__": IMPORT_MACHINERY,
    "__import__": IMPORT_MACHINERY,
    "__loader__": IMPORT_MACHINERY,
    "__spec__": IMPORT_MACHINERY,
    "globals": DYNAMIC_NAMESPACE,
    "locals": DYNAMIC_NAMESPACE,
    "vars": DYNAMIC_NAMESPACE,
    "breakpoint": FRAMES,
}
#: Builtins that are fine with literal arguments only.
LITERAL_ONLY = {"getattr": 1, "setattr": 1, "delattr": 1, "hasattr": 1}
CODE_BUILTINS = {"exec", "eval", "compile"}

#: Attribute names that are hits on whatever object they are read from.
ATTRIBUTES: dict[str, str] = {
    **dict.fromkeys(
        "_getframe _current_frames f_back f_locals f_globals f_builtins f_code f_trace f_lineno "
        "tb_frame tb_next gi_frame gi_code cr_frame ag_frame settrace setprofile monitoring "
        "_getframemodulename extract_stack walk_stack".split(),
        FRAMES,
    ),
    **dict.fromkeys(
        "run_cell run_code run_ast_nodes run_cell_async transform_cell input_transformers_post "
        "input_transformers_cleanup ast_transformers register_post_execute showtraceback "
        "_showtraceback set_custom_exc excepthook displayhook display_pub user_ns "
        "user_global_ns execution_count do_execute execute_request iopub_socket iopub_thread "
        "shell_stream shell_streams comm_manager send_response register_magic_function "
        "_ip".split(),
        SHELL,
    ),
    **dict.fromkeys(
        "history_manager input_hist_raw input_hist_parsed output_hist get_range".split(), HISTORY
    ),
    **dict.fromkeys(
        "meta_path path_hooks path_importer_cache addaudithook setrecursionlimit "
        "setswitchinterval attrgetter methodcaller".split(),
        IMPORT_MACHINERY,
    ),
    **dict.fromkeys(
        "system popen fork forkpty execv execve execl execlp execvp execvpe spawnv spawnl "
        "posix_spawn posix_spawnp kill killpg register_at_fork".split(),
        PROCESSES,
    ),
}
for _name in ("attrgetter", "methodcaller"):
    ATTRIBUTES[_name] = DYNAMIC_ATTRIBUTE
#: Raw memory without importing ctypes: numpy's ctypes bridge, numba's pointer arrays.
for _name in ("ctypes", "ctypeslib", "carray", "farray", "cgutils", "from_address"):
    ATTRIBUTES[_name] = NATIVE

#: Attributes that are hits only on the sys module.
SYS_ATTRIBUTES = {"modules": IMPORT_MACHINERY, "exc_info": FRAMES, "exception": FRAMES}
#: ... and only when assigned.
SYS_STORED = {"stdout", "stderr", "stdin", "path"}

#: Top-level modules whose import is a hit.
MODULES: dict[str, str] = {
    **dict.fromkeys("inspect traceback gc tracemalloc faulthandler linecache".split(), FRAMES),
    **dict.fromkeys(
        "IPython ipykernel jupyter_client jupyter_core zmq comm traitlets tornado nbformat "
        "nbclient nbconvert nbgrader ipywidgets debugpy".split(),
        SHELL,
    ),
    **dict.fromkeys(
        "importlib imp pkgutil runpy zipimport site builtins __builtin__ __main__ code codeop "
        "ast types operator".split(),
        IMPORT_MACHINERY,
    ),
    **dict.fromkeys(
        "pickle _pickle marshal copyreg shelve dill cloudpickle".split(), SERIALIZATION
    ),
    **dict.fromkeys("ctypes _ctypes cffi mmap llvmlite".split(), NATIVE),
    "signal": SIGNALS,
    **dict.fromkeys(
        "threading _thread multiprocessing concurrent asyncio sched atexit weakref".split(),
        CONCURRENCY,
    ),
    **dict.fromkeys("subprocess pty pexpect".split(), PROCESSES),
    "unittest": MONKEYPATCH,  # unittest.mock.patch
}

#: Special methods that decide how a value compares, converts or dispatches: a class the
#: student writes that defines one can make any assertion pass.
RESULT_DUNDERS = set(
    "__eq__ __ne__ __lt__ __le__ __gt__ __ge__ __bool__ __len__ __float__ __int__ __index__ "
    "__complex__ __round__ __abs__ __neg__ __pos__ __sub__ __rsub__ __add__ __radd__ __mul__ "
    "__rmul__ __truediv__ __rtruediv__ __array__ __array_function__ __array_ufunc__ "
    "__array_priority__ __array_interface__ __array_struct__ __array_wrap__ "
    "__array_finalize__ __cuda_array_interface__ __getattr__ __getattribute__ __setattr__ "
    "__instancecheck__ __subclasscheck__ __class_getitem__ __init_subclass__ __set_name__ "
    "__del__ __repr__ __str__ __format__ __hash__ __contains__ __iter__ __getitem__ "
    "__class__ __mro_entries__ __prepare__ __new__ __call__ __get__".split()
)
#: Bases that make a class a number, string, array or type look-alike.
RESULT_BASES = set(
    "float int complex bool str bytes tuple list dict set frozenset type object ndarray generic "
    "number floating integer float64 float32 float16 int64 int32 int16 int8 uint8 matrix "
    "MaskedArray ModuleType Tensor DeviceNDArray".split()
)
#: Special attributes that are fine to read.
SAFE_DUNDERS = set(
    "__name__ __qualname__ __doc__ __module__ __init__ __version__ __file__ __main__ "
    "__annotations__ __cuda_array_interface__ __array_interface__ __len__ __iter__ __next__ "
    "__enter__ __exit__ __all__ __author__".split()
)
#: Attribute names that tests call and a submission must not assign on any object.
PROTECTED_ATTRIBUTES = set(
    "allclose isclose array_equal array_equiv equal not_equal isnan isfinite absolute abs "
    "asarray array testing ndarray all any subtract linalg norm".split()
)
#: Builtins a submission must not rebind at top level, whatever the tests use.
CORE_BUILTINS = set(
    "AssertionError Exception BaseException isinstance issubclass type float int bool complex "
    "abs all any len round print repr str object callable hasattr getattr super".split()
)
#: IPython magics that only time or configure plotting; their code is checked like a cell.
SAFE_MAGICS = {"time", "timeit", "matplotlib", "capture"}
_MODULE_FILES = (".py", ".pth", ".so", ".pyc", "sitecustomize", "usercustomize")
_MAGIC_CALLS = {"run_line_magic", "run_cell_magic", "system", "getoutput"}


@dataclass(frozen=True)
class Hit:
    """One construct the policy does not let count without review."""

    cell: int  # index in the notebook
    line: int
    construct: str
    name: str  # the specific name found (attribute, module, builtin...)
    code: str  # the source line

    @property
    def reason(self) -> str:
        code = self.code.strip()
        code = code if len(code) <= 80 else code[:77] + "..."
        return (
            f"cell {self.cell + 1}, line {self.line}: `{code}` uses {self.name!r}: "
            f"{WHY[self.construct]} [{self.construct}]"
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
            tree = _parse_or_none(code)
            if tree is not None:
                solution_names |= _top_level_bindings(tree)
                solution_aliases.update(_module_aliases(tree))
        for code in locked:
            tree = _parse_or_none(code)
            if tree is None:
                continue
            ctx.module_aliases.update(_module_aliases(tree))
            ctx.protected |= _top_level_bindings(tree)
        for code in tests:
            tree = _parse_or_none(code)
            if tree is None:
                continue
            ctx.module_aliases.update(_module_aliases(tree))
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            ctx.protected |= used & set(dir(builtins))
        for code in [*locked, *tests]:
            tree = _parse_or_none(code)
            if tree is not None:
                ctx.module_attributes |= _attributes_read_from(tree, ctx.module_aliases)
        # A module the reference solution imports is one the tests may use: the student may
        # import the same module under that name, never bind something else to it.
        for alias, module in solution_aliases.items():
            ctx.module_aliases.setdefault(alias, module)
        ctx.protected |= CORE_BUILTINS | set(solution_aliases)
        ctx.protected -= solution_names - CORE_BUILTINS - set(ctx.module_aliases)
        return ctx


class _TooDeep(Exception):
    """The cell is nested too deeply to parse or walk here (the kernel may still run it)."""


def _parse(code: str) -> ast.Module | None:
    try:
        try:
            return ast.parse(_python_source(code))
        except (SyntaxError, ValueError):
            # IPython still runs some cells Python rejects: it strips a common indent and
            # `>>> ` prompts and expands `/f x` escapes. Check what it would run.
            return ast.parse(_ipython_source(code))
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError) as exc:
        raise _TooDeep from exc


def _parse_or_none(code: str) -> ast.Module | None:
    try:
        return _parse(code)
    except _TooDeep:
        return None


@functools.lru_cache(maxsize=4096)
def _python_source(code: str) -> str:
    """The cell as IPython would run it (magics become get_ipython() calls)."""
    if "%" not in code and "!" not in code and "?" not in code:
        return code
    return _ipython_source(code)


@functools.lru_cache(maxsize=1024)
def _ipython_source(code: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(code)
    except Exception:  # noqa: BLE001 - an untransformable cell is parsed as plain Python
        return code


def _top_level_bindings(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        names |= _bound_by(node)
    return names


def _bound_by(node: ast.stmt) -> set[str]:
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


def _attributes_read_from(tree: ast.AST, aliases: dict[str, str]) -> set[str]:
    """Every attribute in a chain rooted at a module alias: np.testing.assert_allclose."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _root_name(node) in aliases:
            if not _DUNDER.match(node.attr):
                found.add(node.attr)
    return found


def _module_aliases(tree: ast.AST) -> dict[str, str]:
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
def _installed(top: str) -> bool:
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return True
    paths = [p for p in sys.path if p and p != "."]
    try:
        return PathFinder.find_spec(top, paths) is not None
    except (ImportError, ValueError):
        return False


def _formats_a_built_string(func: ast.AST) -> bool:
    """``x.format(...)``/``format_map`` where x is not a string literal (whose fields are checked)."""
    if not (isinstance(func, ast.Attribute) and func.attr in ("format", "format_map")):
        return False
    receiver = func.value
    return not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str))


def _is_super_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.NamedExpr)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


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
        root = _root_name(node)
        return self.aliases.get(root) if root else None

    # -- names
    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name in NAMES:
            self.hit(node, NAMES[name], name)
        elif _HISTORY_NAME.match(name):
            self.hit(node, HISTORY, name)
        elif name in LITERAL_ONLY or name in CODE_BUILTINS:
            # Reached here only when not the callee of a checked call: an alias of the builtin.
            construct = DYNAMIC_CODE if name in CODE_BUILTINS else DYNAMIC_ATTRIBUTE
            self.hit(node, construct, name)
        elif _DUNDER.match(name) and name not in SAFE_DUNDERS:
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
        if node.arg and _DUNDER.match(node.arg) and node.arg not in SAFE_DUNDERS:
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
        elif _DUNDER.match(attr) and attr not in SAFE_DUNDERS:
            self.hit(node, DUNDER, attr)
        elif attr == "__init__" and not _is_super_call(base):
            # Klass.__init__(module) runs an __init__ whose self is that module.
            self.hit(node, DUNDER, attr)
        elif attr == "ma" and module is not None and module.split(".")[0] == "numpy":
            self.hit(node, RESULT_TYPE, "numpy.ma")
        if stored:
            owner = _root_name(base)
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
            if _formats_a_built_string(func):
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
            and func.attr in _MAGIC_CALLS
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
        code = "\n".join(part for part in (_strip_magic_options(line), body) if part.strip())
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
            for name in _bound_by(stmt):
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
        if top_only and not _installed(top):
            self.hit(node, UNKNOWN_MODULE, top)

    def _check_import_binding(self, node: ast.AST, name: str, module: str) -> None:
        given = self.policy.context.module_aliases.get(name)
        if given is not None and given != module:
            self.hit(node, REBIND, f"{name} (given as {given}, imported as {module})")

    # -- strings that name what the checks above look for
    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str) and len(value) < 64:
            if _DUNDER.match(value) and value not in SAFE_DUNDERS - RESULT_DUNDERS:
                self.hit(node, DUNDER, value)
            elif value in NAMES or (value in ATTRIBUTES and "_" in value):
                self.hit(node, NAMES.get(value) or ATTRIBUTES[value], value)
            elif value.startswith("_") and _HISTORY_NAME.match(value):
                self.hit(node, HISTORY, value)
            elif "{" in value:
                # str.format reaches attributes: '{0.gi_frame.f_back.f_locals}'.format(g)
                for field_name in _FORMAT_ATTRIBUTE.findall(value):
                    if field_name in ATTRIBUTES or (
                        _DUNDER.match(field_name) and field_name not in SAFE_DUNDERS
                    ):
                        self.hit(node, ATTRIBUTES.get(field_name, DUNDER), field_name)
            elif value.startswith(("/proc/", "/dev/mem")):
                # /proc/self/mem writes the interpreter's own memory.
                self.hit(node, NATIVE, value)
            elif value.endswith(_MODULE_FILES):
                # A module file written now and imported later is code no scan has seen.
                self.hit(node, IMPORT_MACHINERY, value)


def _strip_magic_options(line: str) -> str:
    words = line.split()
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] in ("-n", "-r", "-p", "-o") and len(words) > 1 else words[1:]
    return " ".join(words)


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
                tree = _parse(source)
                if tree is None:
                    continue  # a cell that does not parse does not run either
                aliases.update(_module_aliases(tree))
                _propagate_aliases(tree, aliases)
            except (_TooDeep, RecursionError, MemoryError):
                hits.append(_too_deep(index))
                continue
            trees.append((index, source, tree))
        for index, source, tree in trees:
            try:
                hits.extend(self._check_tree(index, tree, source.splitlines(), aliases))
            except (_TooDeep, RecursionError, MemoryError):
                hits.append(_too_deep(index))
        return sorted(hits, key=lambda h: (h.cell, h.line))

    def check_source(
        self, cell: int, code: str, lines: list[str], aliases: dict[str, str]
    ) -> list[Hit]:
        tree = _parse(code)  # _TooDeep propagates to check()
        if tree is None:
            return []
        return self._check_tree(cell, tree, lines, aliases)

    def _check_tree(
        self, cell: int, tree: ast.Module, lines: list[str], aliases: dict[str, str]
    ) -> list[Hit]:
        checker = _Checker(self, cell, lines, aliases)
        saved = self._top_names
        self._top_names = _top_level_bindings(tree) | {
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


def _propagate_aliases(tree: ast.Module, aliases: dict[str, str]) -> None:
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
            root = _root_name(value)
            if root in aliases and isinstance(value, (ast.Name, ast.Attribute)):
                for target in targets:
                    if isinstance(target, ast.Name):
                        aliases[target.id] = aliases[root]


def policy_for(
    locked: Iterable[str],
    tests: Iterable[str],
    solutions: Iterable[str],
    allow: Iterable[str] = (),
) -> Policy:
    return Policy(Context.from_cells(locked, tests, solutions), allow)
