"""Compile a student's kernel for a GPU on a machine that has none: NVVM turns numba-cuda's
LLVM IR into PTX without a GPU or a driver (docs/curriculum.md, "Compiling for a GPU without one").

Use it from the process that holds the kernel (a notebook kernel, under the simulator or not):
``compiles_for_gpu(kernel, *example_args)`` ships the kernel's SOURCE, the globals it names and
the argument types to a child process of the same interpreter, started without
``NUMBA_ENABLE_CUDASIM`` (the simulator replaces numba.cuda for the whole process, so the real
compiler can only run in another one). The child inherits the caller's sandbox: student code is
never compiled in the web process or the grader's own.

This file needs only the standard library in the caller, so it can be shipped into a sandbox
that does not see the repository (the notebooks' ``gpu-compile`` cell is this file's text).
"""

from __future__ import annotations

import glob
import hashlib
import inspect
import json
import os
import re
import select
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field

#: The oldest architecture CUDA 13's NVVM targets (Turing); a kernel that compiles for it
#: compiles for every newer one numba-cuda supports.
DEFAULT_CC = (7, 5)
TOOL_NVVM = "nvvm"
TOOL_HEURISTIC = "heuristic"


@dataclass
class CompileCheck:
    """``tool``: "nvvm" (really compiled to PTX) or "heuristic" (NVVM missing: the static
    reading passed as ``fallback`` ran instead). ``problems`` is empty when the kernel compiles."""

    tool: str
    problems: list[str] = field(default_factory=list)
    why_fallback: str = ""
    ptx_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _python_function(obj):
    """The Python function behind a numba kernel (real or simulated) or a plain function, and
    whether it is a device function; (None, False) for anything else."""
    if hasattr(obj, "fn") and hasattr(obj, "_device"):  # the simulator's FakeCUDAKernel
        return obj.fn, bool(obj._device)
    if hasattr(obj, "py_func"):  # numba.cuda's Dispatcher
        return obj.py_func, bool(getattr(obj, "targetoptions", {}).get("device"))
    if inspect.isfunction(obj):
        return obj, False
    return None, False


def _function_spec(fn, device: bool, seen: dict) -> dict:
    try:
        lines, first = inspect.getsourcelines(fn)
        source = textwrap.dedent("".join(lines))
    except (OSError, TypeError):
        source, first = "", 1
    spec = {
        "name": fn.__name__,
        "source": source,
        "first_line": first,
        "filename": fn.__code__.co_filename,
        "device": device,
        "globals": {},
    }
    seen[id(fn)] = spec
    names = set()
    codes = [fn.__code__]
    while codes:  # names used in nested code objects (comprehensions, closures) too
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if inspect.iscode(c))
    for name in sorted(names):
        if name in fn.__globals__:
            spec["globals"][name] = _value_spec(fn.__globals__[name], seen)
    # A nested function's free variables become globals of the same name in the child, where
    # its source is defined at module level.
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True):
        try:
            spec["globals"][name] = _value_spec(cell.cell_contents, seen)
        except ValueError:  # an empty cell
            continue
    return spec


def _value_spec(value, seen: dict) -> dict:
    """How the child rebuilds a global the kernel names: by module reference, by value, or
    as a stand-in of the same kind so that numba gives the error a GPU build would give."""
    if inspect.ismodule(value):
        name = value.__name__
        return {"module": "numba.cuda" if name.startswith("numba.cuda") else name}
    if isinstance(value, bool | int | float | complex) or value is None:
        return {"value": repr(value)}
    if isinstance(value, tuple) and all(isinstance(v, bool | int | float) for v in value):
        return {"value": repr(value)}
    if type(value).__module__.startswith("numba.core.types"):
        return {"numba_type": str(value)}
    if hasattr(value, "dtype") and hasattr(value, "tolist") and hasattr(value, "shape"):
        if value.shape == () and type(value).__module__ == "numpy":  # np.float32(0.5)
            return {"scalar": value.tolist(), "dtype": _dtype_spec(value.dtype)}
        if getattr(value, "size", 0) <= 65536:  # cuda.const.array_like(WEIGHTS)
            return {"array": value.tolist(), "dtype": _dtype_spec(value.dtype)}
        return {"object": type(value).__name__}
    fn, device = _python_function(value)
    if fn is not None:
        if id(fn) in seen:
            return {"function_ref": fn.__name__}
        module = getattr(fn, "__module__", "") or ""
        if module and module != "__main__" and not fn.__code__.co_filename.startswith("<"):
            # A library's function (math.exp, numba.cuda.random's): by reference.
            return {"attribute": [module, fn.__qualname__]}
        return {"function": _function_spec(fn, device, seen)}
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if module and qualname and module != "__main__":
        return {"attribute": [module, qualname]}
    return {"object": type(value).__name__}


def _dtype_spec(dtype):
    """A dtype as JSON: its name, or a record's fields (numba.cuda.random's states)."""
    return [list(field) for field in dtype.descr] if dtype.fields else str(dtype)


def _arg_spec(arg) -> list:
    if isinstance(arg, bool | int | float | complex):
        return ["scalar", type(arg).__name__]
    if isinstance(arg, tuple):
        return ["tuple", [_arg_spec(a) for a in arg]]
    dtype, ndim = getattr(arg, "dtype", None), getattr(arg, "ndim", None)
    if dtype is not None and ndim is not None and type(dtype).__module__.startswith("numpy"):
        return ["array", _dtype_spec(dtype), int(ndim)] if ndim else ["scalar", str(dtype)]
    return ["object", type(arg).__name__]


_CACHE: dict[str, CompileCheck] = {}


def compiles_for_gpu(
    kernel,
    *example_args,
    argtypes: str | None = None,
    cc: tuple[int, int] = DEFAULT_CC,
    fallback=None,
    timeout: float = 120.0,
    python: str | None = None,
) -> CompileCheck:
    """Compile ``kernel`` to PTX for compute capability ``cc`` with the argument types of
    ``example_args`` (arrays of any kind with ``dtype`` and ``ndim``, Python or NumPy scalars),
    or with a numba signature string ``argtypes`` such as "(float32[:], int32)".

    Where NVVM cannot run (its wheels not installed, numba missing), ``fallback(kernel)`` runs
    instead, when given, and the result says so (``tool == "heuristic"``)."""
    [check] = compile_kernels(
        [(kernel, argtypes if argtypes is not None else example_args)],
        cc=cc,
        fallback=fallback,
        timeout=timeout,
        python=python,
    )
    return check


def compile_kernels(
    launches: list[tuple],
    *,
    cc: tuple[int, int] = DEFAULT_CC,
    fallback=None,
    timeout: float = 300.0,
    python: str | None = None,
) -> list[CompileCheck]:
    """``compiles_for_gpu`` for many ``(kernel, example_args or signature string)`` pairs in
    one child process (starting numba-cuda costs seconds; each compile a fraction of that)."""
    specs, keys = [], []
    for kernel, args in launches:
        fn, device = _python_function(kernel)
        if fn is None:
            raise TypeError(f"not a kernel or a function: {kernel!r}")
        spec = {
            "kernel": _function_spec(fn, device, {}),
            "argtypes": args if isinstance(args, str) else None,
            "args": None if isinstance(args, str) else [_arg_spec(a) for a in args],
        }
        text = json.dumps([spec, list(cc)], sort_keys=True)
        specs.append(spec)
        keys.append(hashlib.sha256(f"{python}\0{text}".encode()).hexdigest())
    todo = [i for i, key in enumerate(keys) if key not in _CACHE]
    if todo:
        answers = _run_child([specs[i] for i in todo], list(cc), timeout, python or sys.executable)
        for i, check in zip(todo, answers, strict=True):
            _CACHE[keys[i]] = check
    checks = [_CACHE[key] for key in keys]
    if fallback is not None:
        checks = [
            CompileCheck(TOOL_HEURISTIC, list(fallback(kernel)), check.why_fallback)
            if check.tool == TOOL_HEURISTIC
            else check
            for (kernel, _), check in zip(launches, checks, strict=True)
        ]
    return checks


_SERVERS: dict[str, subprocess.Popen] = {}


def _stop(python: str) -> None:
    child = _SERVERS.pop(python, None)
    if child is not None:
        child.kill()
        child.wait()


def _run_child(specs: list[dict], cc: list[int], timeout: float, python: str) -> list[CompileCheck]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["NUMBA_DISABLE_PERFORMANCE_WARNINGS"] = "1"
    # The child imports what this process imports: the grading sandbox may run a system python
    # that finds the virtual environment's packages only through the path it was given.
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    # ... and their .pth files, which PYTHONPATH skips: numba-cuda's makes `numba.cuda` its own
    # (without it numba's older built-in CUDA target would compile, and judge differently).
    env["KERNELCAMP_SITE_DIRS"] = json.dumps([p for p in paths if p.endswith("-packages")])
    # numba-cuda looks for NVVM and NVRTC in the interpreter's own site-packages, then on the
    # linker's path: the wheels' folders go there for a python that was given them by path.
    wheels = [d for p in paths for d in sorted(glob.glob(os.path.join(p, "nvidia", "cu*", "lib")))]
    env["LD_LIBRARY_PATH"] = os.pathsep.join([*wheels, env.get("LD_LIBRARY_PATH", "")]).strip(
        os.pathsep
    )

    def unavailable(why: str) -> list[CompileCheck]:
        return [CompileCheck(TOOL_HEURISTIC, why_fallback=why) for _ in specs]

    try:
        child = _SERVERS.get(python)
        if child is None or child.poll() is not None:
            child = _SERVERS[python] = subprocess.Popen(
                [python, "-c", CHILD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
            )
        child.stdin.write(json.dumps({"cc": cc, "kernels": specs}) + "\n")
        child.stdin.flush()
        ready, _, _ = select.select([child.stdout], [], [], timeout)
        line = child.stdout.readline() if ready else ""
        answer = json.loads(line)
    except (OSError, ValueError) as exc:
        _stop(python)
        return unavailable(f"the compiler did not answer: {exc or 'no answer in time'}")
    if answer["status"] == "unavailable":
        return unavailable(answer["why"])
    checks = []
    for spec, result in zip(specs, answer["results"], strict=True):
        if result["status"] == "refused":
            kernel = spec["kernel"]
            lines = dict(enumerate(kernel["source"].splitlines(), start=kernel["first_line"]))
            checks.append(
                CompileCheck(TOOL_NVVM, [explain(kernel["name"], result["message"], lines)])
            )
        else:
            checks.append(CompileCheck(TOOL_NVVM, ptx_bytes=result["ptx"]))
    return checks


# What a numba error means to a student, by the error's text; {name} is filled in from the match.
REASONS = [
    (
        r"Untyped global name '(?P<name>\w+)'.*Cannot determine Numba type of <class 'function'>",
        "calls {name}(), a plain Python function: a kernel can call only functions decorated "
        "with @cuda.jit(device=True)",
    ),
    (
        r"Untyped global name '(?P<name>\w+)'",
        "uses {name}, a Python object that does not exist on a GPU",
    ),
    (
        r"Function\(<function (?P<name>shared|local)\.array",
        "gives cuda.{name}.array a size numba cannot read as a constant: numba does not work out "
        "sums such as TPB + 2 when it compiles, so name the size at module level (e.g. "
        "TILE = TPB + 2) and use that name",
    ),
    (
        r"NRT required but not enabled",
        "builds a Python list, dict or string, or allocates an array, at run time: a GPU kernel "
        "can only use fixed-size cuda.local.array or cuda.shared.array",
    ),
    (
        r"Use of unsupported NumPy function '(?P<name>[\w.]+)'",
        "calls {name}(), which numba-cuda cannot compile for a GPU",
    ),
    (
        r"KeyError: <ufunc '(?P<name>\w+)'>",
        "calls np.{name}(), which numba-cuda cannot compile for a GPU: use the math module "
        "(math.{name}) on single values",
    ),
    (
        r"Function\(<(?:built-in )?function (?P<name>\w+)[ >].*(?:_ol_array_allocate|"
        r"function (?:empty|zeros|ones)>)",
        "calls {name}(), which creates a new array inside the kernel, which a GPU cannot: "
        "write into an output argument, or use cuda.local.array / cuda.shared.array",
    ),
    (
        r"No definition for lowering array\.(?P<name>\w+)",
        "calls the array method .{name}(), which does not exist on a GPU",
    ),
    (
        r"Function\(<(?:built-in )?function (?P<name>\w+)[ >]",
        "calls {name}() in a way that does not compile for a GPU (in a kernel, NumPy and Python "
        "library calls work only on single values, not on whole arrays)",
    ),
]


def explain(name: str, message: str, source_lines: dict[int, str]) -> str:
    """One line for a student from a numba error: what the construct is and where it is."""
    flat = " ".join(message.split())
    reason = None
    for pattern, text in REASONS:
        m = re.search(pattern, flat, re.DOTALL)
        if m:
            reason = text.format(**m.groupdict())
            break
    if reason is None:
        reason = "does not compile for a GPU: " + message.strip().splitlines()[0][:300]
    line = _line_of(flat, source_lines)
    where = f" at line {line}: {source_lines[line].strip()}" if line else ""
    return f"{name}() {reason}{where}"


def _line_of(flat: str, source_lines: dict[int, str]) -> int | None:
    numbers = [int(n) for n in re.findall(r"line (\d+)|\((\d+)\)", flat) for n in n if n]
    for n in numbers:
        if n in source_lines:
            return n
    m = re.search(
        r"<ufunc '(\w+)'>|array\.(\w+)\(|Function\(<(?:built-in )?function ([\w.]+)", flat
    )
    if m:  # errors raised inside a library's code carry no location: find the call in the source
        called = next(g for g in m.groups() if g)
        for n, text in sorted(source_lines.items()):
            if re.search(rf"\b{re.escape(called)}\s*\(", text):
                return n
    return None


# The child: the same interpreter without the simulator; standard library, numpy and numba only.
# Kept as text so that this file can be shipped on its own (no import of the grader there).
CHILD = r"""
import ast, json, sys, types, importlib

import os, site
for path in json.loads(os.environ.get("KERNELCAMP_SITE_DIRS", "[]")):
    site.addsitedir(path)

def main(payload):
    try:
        import numpy as np
        import numba
        from numba import cuda
        import numba.cuda.dispatcher as dispatcher
        from numba.cuda import random
    except Exception as exc:
        return {"status": "unavailable", "why": f"numba-cuda cannot be imported: {exc}"}
    try:
        from cuda.bindings import nvrtc as _nvrtc
        from cuda.pathfinder import load_nvidia_dynamic_lib
        load_nvidia_dynamic_lib("nvvm")
        load_nvidia_dynamic_lib("nvrtc")
    except Exception as exc:
        return {"status": "unavailable", "why": "NVVM/NVRTC not installed: " + str(exc).splitlines()[0]}
    cc = tuple(payload["cc"])
    # Device functions are compiled for "the current device", which asks the driver; there is
    # none here, so the current device is the target architecture.
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=cc)

    def dtype(spec):
        return np.dtype([tuple(f) for f in spec] if isinstance(spec, list) else spec)

    def value(spec, built):
        if "module" in spec:
            return importlib.import_module(spec["module"])
        if "value" in spec:
            return ast.literal_eval(spec["value"])
        if "numba_type" in spec:
            return getattr(numba.types, spec["numba_type"], None) or numba.types.float64
        if "array" in spec:
            return np.asarray(spec["array"], dtype=dtype(spec["dtype"]))
        if "scalar" in spec:
            return dtype(spec["dtype"]).type(spec["scalar"])
        if "attribute" in spec:
            module, qualname = spec["attribute"]
            obj = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
            return obj
        if "function" in spec:
            return define(spec["function"], built)
        if "function_ref" in spec:
            return built[spec["function_ref"]]
        return type(spec["object"], (), {})()

    def define(spec, built):
        if spec["name"] in built:
            return built[spec["name"]]
        namespace = {"__name__": "__student__"}
        tree = ast.parse(spec["source"] or f"def {spec['name']}(*args):\n    pass\n")
        fdef = tree.body[0]
        jitted = any("jit" in ast.unparse(d) for d in fdef.decorator_list)
        fdef.decorator_list = []  # applied below: a signature in @cuda.jit(...) would compile now
        fdef.args.defaults, fdef.args.kw_defaults = [], [None] * len(fdef.args.kwonlyargs)
        tree.body = [fdef]
        ast.increment_lineno(tree, spec["first_line"] - 1)
        exec(compile(tree, spec["filename"], "exec"), namespace)
        fn = namespace[spec["name"]]
        built[spec["name"]] = fn
        if spec["device"] or (jitted and not spec.get("kernel")):
            built[spec["name"]] = cuda.jit(device=True)(fn)
        for name, gspec in spec["globals"].items():
            if "function" in gspec and name.startswith("xoroshiro128p_") and hasattr(random, name):
                # A notebook's pure-Python stand-in for the library's function (which the
                # simulator runs too slowly): on a GPU the library's own is called.
                fn.__globals__[name] = getattr(random, name)
                continue
            try:
                fn.__globals__[name] = value(gspec, built)
            except Exception:
                fn.__globals__[name] = type(gspec.get("object", name), (), {})()
        return built[spec["name"]]

    def compile_one(item):
        kernel = item["kernel"]
        fn = define(dict(kernel, device=False, kernel=True), {})
        if item["argtypes"] is not None:
            sig = item["argtypes"]
        else:
            python_types = {"int": "int64", "float": "float64", "bool": "bool", "complex": "complex128"}

            def numba_type(arg):
                if arg[0] == "array":
                    return numba.types.Array(numba.from_dtype(dtype(arg[1])), arg[2], "A")
                if arg[0] == "scalar":
                    return numba.from_dtype(np.dtype(python_types.get(arg[1], arg[1])))
                if arg[0] == "tuple":
                    return numba.types.BaseTuple.from_types([numba_type(a) for a in arg[1]])
                return numba.types.pyobject

            sig = tuple(numba_type(arg) for arg in item["args"])
        try:
            ptx, _ = cuda.compile_ptx(fn, sig, cc=cc)
        except Exception as exc:
            return {"status": "refused", "message": f"{type(exc).__name__}: {exc}"}
        return {"status": "compiled", "ptx": len(ptx)}

    return {"status": "done", "results": [compile_one(item) for item in payload["kernels"]]}

# One request per line, one answer per line: the caller keeps this process for its next kernel,
# so numba-cuda and NVVM load once per notebook, not once per kernel.
for line in sys.stdin:
    try:
        answer = main(json.loads(line))
    except Exception as exc:
        answer = {"status": "unavailable", "why": f"the compiler failed: {type(exc).__name__}: {exc}"}
    print(json.dumps(answer), flush=True)
"""
