"""The policy's tables: construct names (what ``kernelcamp.allow`` may list), why each is a
hit, and the names, modules, attributes and dunders that count as each construct
(grader/policy.py applies them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
TEST_NAMESPACE = "test-namespace"

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
    TEST_NAMESPACE: (
        "reads, while the tests run, a variable only the tests set (hidden tests included)"
    ),
}

FORMAT_ATTRIBUTE = re.compile(r"[.\[](\w+)")
HISTORY_NAME = re.compile(r"^(_i+|_i\d+|_ii+|_\d+|_oh|_ih|_dh|In|Out)$")
DUNDER_NAME = re.compile(r"^__\w+__$")

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
for _name in ("attrgetter", "methodcaller", "get_field", "vformat"):
    # string.Formatter().get_field('0.f_back', [obj], {}) is getattr by a dotted string.
    ATTRIBUTES[_name] = DYNAMIC_ATTRIBUTE
# Frames without sys._getframe: logging.currentframe(), a debugger's current frame.
for _name in ("currentframe", "curframe", "curframe_locals", "botframe"):
    ATTRIBUTES[_name] = FRAMES
# The shell's input transformation and the kernel's channel, as reached from sys.stdout.
for _name in (
    "input_transformer_manager line_transforms cleanup_transforms token_transformers "
    "pub_thread pub_socket parent_header _parent_header get_parent".split()
):
    ATTRIBUTES[_name] = SHELL
# Strings evaluated as code: string annotations (typing.get_type_hints and what calls it).
for _name in (
    "get_type_hints ForwardRef _eval_type evaluate_forward_ref singledispatch "
    "singledispatchmethod".split()
):
    ATTRIBUTES[_name] = DYNAMIC_CODE
# torch's C++ extensions and custom-op libraries are native code.
# numba's intrinsics write LLVM IR (raw pointers); as_strided reads and writes past an array.
for _name in (
    "load_inline",
    "load_library",
    "cpp_extension",
    "intrinsic",
    "inttoptr",
    "as_strided",
):
    ATTRIBUTES[_name] = NATIVE
ATTRIBUTES["pidfd_send_signal"] = PROCESSES
# torch's operator registry: Library('aten', 'IMPL').impl('isclose', ...) replaces the operator
# torch.testing.assert_close calls, for every tensor, with no class, dunder or module store.
for _name in (
    "Library TorchFunctionMode TorchDispatchMode _python_dispatch _C impl_abstract "
    "register_kernel register_fake".split()
):
    ATTRIBUTES[_name] = MONKEYPATCH
ATTRIBUTES["ThreadingMixIn"] = CONCURRENCY
# Classes built from a computed namespace, as type(name, bases, namespace) is.
for _name in ("ABCMeta", "EnumMeta", "EnumType", "new_class"):
    ATTRIBUTES[_name] = RESULT_TYPE
for _name in "spawnlp spawnlpe spawnve spawnle spawnvp spawnvpe".split():
    ATTRIBUTES[_name] = PROCESSES
ATTRIBUTES["QueueListener"] = CONCURRENCY
#: Raw memory without importing ctypes: numpy's ctypes bridge, numba's pointer arrays.
for _name in ("ctypes", "ctypeslib", "carray", "farray", "cgutils", "from_address"):
    ATTRIBUTES[_name] = NATIVE

#: Attributes that are hits only on the sys module.
SYS_ATTRIBUTES = {"modules": IMPORT_MACHINERY, "exc_info": FRAMES, "exception": FRAMES}
#: ... and only when assigned.
SYS_STORED = {"stdout", "stderr", "stdin", "path"}

#: Top-level modules whose import is a hit.
MODULES: dict[str, str] = {
    **dict.fromkeys(
        "inspect traceback gc tracemalloc faulthandler linecache pdb bdb trace".split(), FRAMES
    ),
    # run code given as a string (timeit.timeit(s), cProfile.run(s), doctest examples)
    **dict.fromkeys("timeit cProfile profile doctest".split(), DYNAMIC_CODE),
    "pydoc": IMPORT_MACHINERY,  # pydoc.locate('package.module.name') imports by a string
    # templates and symbolic parsers compile text to Python (attribute access included)
    **dict.fromkeys("jinja2 mako sympy".split(), DYNAMIC_CODE),
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
#: Module names that are hits as an attribute of any object, not only of a module the scan
#: knows (``[dataclasses][0].builtins``); the others are common words (numba.types, x.code).
AMBIGUOUS_MODULE_ATTRIBUTES = set(
    "types code ast trace profile site signal operator sched comm concurrent".split()
)
#: Keyword arguments that turn a loader into an unpickler (numpy.load, torch.load).
UNPICKLING_KEYWORDS = {"allow_pickle": True, "weights_only": False}
#: C modules behind flagged ones, named otherwise (a leading underscore alone is handled).
PRIVATE_MODULES: dict[str, str] = {
    "_lsprof": DYNAMIC_CODE,
    "_posixsubprocess": PROCESSES,
    "_imp": IMPORT_MACHINERY,
    "_testcapi": NATIVE,
    "_testinternalcapi": NATIVE,
    "_xxsubinterpreters": CONCURRENCY,
    "_interpreters": CONCURRENCY,
    "socketserver": CONCURRENCY,  # ThreadingMixIn: a thread per connection
}
#: Submodules whose import is a hit although their package's is not.
DOTTED_MODULES: dict[str, str] = {
    # dictConfig's '()' factories and 'ext://' values resolve dotted names given as strings
    "logging.config": IMPORT_MACHINERY,
    "torch.library": MONKEYPATCH,
    "torch.overrides": MONKEYPATCH,
    "torch.utils._python_dispatch": MONKEYPATCH,
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
#: Special methods a class may define without being a result type (construction, context
#: managers, iteration steps); any other special method in a class body is a hit, since the
#: libraries the tests call dispatch on many (__torch_function__, __array_namespace__...).
CLASS_SAFE_DUNDERS = set(
    "__init__ __post_init__ __slots__ __doc__ __module__ __qualname__ __annotations__ "
    "__match_args__ __enter__ __exit__ __next__ __dataclass_fields__".split()
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
MODULE_FILES = (".py", ".pth", ".so", ".pyc", "sitecustomize", "usercustomize")
MAGIC_CALLS = {"run_line_magic", "run_cell_magic", "system", "getoutput"}


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
