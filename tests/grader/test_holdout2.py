"""A second holdout of hostile-student attacks against a real course notebook (issue 9).

tests/fixtures/attacks/cheat_h2_attacks.py builds each notebook from the release of
notebooks/cuda-numba/01-threads-and-maps.ipynb with every answer wrong (0 of 10 points) plus one
mechanism. Graded through the CLI before the policy learnt them, 21 of the 30 scored with no
flag: 19 got 9 or 10 of 10 (the given code's own ``_builtins``/``_inspect`` aliases, also spelt
in fullwidth letters; ``builtins`` as another module's attribute; ``match`` class patterns;
``string.Formatter().get_field``; ``logging.currentframe`` with ``pdb``; ``timeit``, ``cProfile``,
``bdb``, ``doctest`` and ``pydoc`` running or resolving strings; ``typing.get_type_hints`` and
``singledispatch`` evaluating a built annotation; a pickle through ``numba.core.serialize`` or
``numpy.load(allow_pickle=True)``), and two got 1 point (``make_dataclass`` with a built
``__eq__``; reading the hidden test's own ``expected``). Each must now score 0, be flagged
``review-needed`` with a reason naming the construct, and hold what it earned. The four sandbox
probes (instructor source on disk, other processes, files left for the next submission) earn a
point only if the sandbox lets them see something, and never did.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import nbformat
import pytest

from grader import pipeline
from grader import result as R
from grader.pipeline import _source_policy
from grader.source import notebook_bytes, read_notebook

from .conftest import ATTACKS

sys.path.insert(0, str(ATTACKS))
from cheat_h2_attacks import ATTACKS as H2  # noqa: E402
from cheat_h2_attacks import HONEST, SANDBOX, SOURCE, notebooks

ROOT = SOURCE.parents[2]


@functools.lru_cache(maxsize=1)
def _built() -> dict[str, bytes]:
    """The attack notebooks built from the *current* release of the course notebook (the
    stored cheat_h2_*.ipynb are the same, from the release of the day they were written: an
    edited test cell in the course would read as tampering there)."""
    return {name: notebook_bytes(nb) for name, nb in notebooks().items()}


def fixture_bytes(name: str) -> bytes:
    return _built()[name]


@pytest.fixture(scope="module")
def source01():
    return read_notebook(SOURCE, SOURCE.name)


def _hits(source, name: str):
    nb = nbformat.reads(fixture_bytes(f"cheat_h2_{name}").decode(), as_version=4)
    cells = [
        (i, c.source)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("locked")
    ]
    return _source_policy(source).check(cells)


#: The 30 attacks as written (26 for the policy, 4 sandbox probes from cheat_h2_sandbox.py):
#: splitting or tidying the fixture module must keep every one of them.
WRITTEN = {
    "builtins_alias_exec", "builtins_alias_setattr", "inspect_alias_stack_shell",
    "sys_alias_via_dataclasses", "threading_alias_thread", "logging_frame_pdb_locals",
    "formatter_get_field_frames", "match_class_pattern_frames", "match_class_module_dict",
    "typing_hints_eval", "singledispatch_register_eval", "timeit_string", "cprofile_run_string",
    "bdb_run_string", "doctest_runs_examples", "pydoc_locate_shell", "pickle_via_numba_serialize",
    "make_dataclass_built_dunder", "class_defines_unlisted_dunder", "reads_hidden_test_global",
    "os_spawnvp", "queue_listener_thread", "stdout_session_forges_idle", "unicode_builtins_alias",
    "lost_module_builtins", "numpy_load_pickle_file",
}  # fmt: skip
WRITTEN_SANDBOX = {
    "finds_instructor_source", "reads_other_processes", "leaves_files_for_the_next",
    "finds_files_of_the_previous",
}  # fmt: skip


def test_the_attack_set_is_the_one_written():
    assert len(H2) == 30 and set(H2) == WRITTEN | WRITTEN_SANDBOX
    assert set(SANDBOX) == WRITTEN_SANDBOX
    assert all(H2[name] is SANDBOX[name] and not SANDBOX[name].flagged for name in SANDBOX)
    assert all(SANDBOX[name].construct is None for name in SANDBOX)


def test_the_holdout_covers_many_attacks():
    assert len(H2) >= 20
    assert {a.construct for a in H2.values()} >= {
        "import-machinery",
        "frames",
        "dynamic-attribute",
        "dynamic-code",
        "dunder",
        "result-type",
        "serialization",
        "concurrency",
        "processes",
        "test-namespace",
    }


@pytest.mark.parametrize("name", [n for n, a in H2.items() if a.construct])
def test_policy_names_the_mechanism(source01, name):
    constructs = {hit.construct for hit in _hits(source01, name)}
    assert H2[name].construct in constructs, constructs


@pytest.mark.parametrize("name", list(HONEST))
def test_honest_variant_is_not_flagged(source01, name):
    assert _hits(source01, name) == []


def test_reference_solution_reads_no_test_variable(source01):
    cells = [(i, c.source) for i, c in enumerate(source01.cells) if c.cell_type == "code"]
    solutions = [
        (i, s) for i, s in cells if source01.cells[i].metadata.get("nbgrader", {}).get("solution")
    ]
    assert _source_policy(source01).check(solutions) == []


@pytest.fixture(scope="module")
def graded(worker, source01):
    saved, pipeline.VERIFY_HELD = pipeline.VERIFY_HELD, False
    try:
        return {
            name: worker.grade(source01, fixture_bytes(f"cheat_h2_{name}"), name=f"{name}.ipynb")
            for name in [*H2, *HONEST]
        }
    finally:
        pipeline.VERIFY_HELD = saved


@pytest.mark.slow
@pytest.mark.parametrize("name", list(H2))
def test_attack_earns_nothing_unflagged(graded, name):
    if name in SANDBOX and os.geteuid() != 0:
        pytest.skip("the sandbox isolates files and processes only as root (docs/grader.md)")
    r = graded[name]
    attack = H2[name]
    assert r.score == 0, [(c.grade_id, c.status, c.points, c.held) for c in r.cells]
    if not attack.flagged:
        return
    assert R.REVIEW_NEEDED in r.flags, r.reasons
    if attack.construct:
        reason = next((x for x in r.reasons if x.endswith(f"[{attack.construct}]")), None)
        assert reason is not None, r.reasons
        assert reason.startswith("cell ") and ", line " in reason
    if attack.flag:
        assert attack.flag in r.flags, r.flags
    assert r.held_points == sum(c.points for c in r.cells if c.held)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(HONEST))
def test_honest_variant_keeps_its_points(graded, name):
    r = graded[name]
    assert (r.score, r.held_points, r.flags) == (3, 0, []), r.reasons


@pytest.mark.slow
def test_through_the_cli(tmp_path):
    """The holdout's interface: one attack through `python -m grader grade ... --json`."""
    fixture = tmp_path / "cheat_h2_builtins_alias_exec.ipynb"
    fixture.write_bytes(fixture_bytes("cheat_h2_builtins_alias_exec"))
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "--source", str(SOURCE),
         "--submission", str(fixture), "--json", "--no-feedback",
         "--cell-timeout", "10", "--notebook-timeout", "90"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["score"] == 0
    assert R.REVIEW_NEEDED in result["flags"]
    assert any(r.endswith("[import-machinery]") and "_builtins" in r for r in result["reasons"])


SNIPPETS = {
    # code -> the construct it must be held for
    "import functools\n@functools.singledispatch\ndef g(x):\n    pass": "dynamic-code",
    "def mk(s):\n    def f(x: s):\n        pass\n    return f": "dynamic-code",
    "def f(x: 'get_ipython()'):\n    pass": "shell",
    "import logging\nfmt = 'a' + 'b'\nlogging.Formatter(fmt, style='{')": "dynamic-attribute",
    "np.load('x.npy', allow_pickle=True)": "serialization",
    "import torch\ntorch.load('m.pt', weights_only=False)": "serialization",
    "import jinja2": "dynamic-code",
    "import logging.config": "import-machinery",
    "from dataclasses import inspect": "frames",
    "import string\nstring.Formatter().vformat(s, [x], {})": "dynamic-attribute",
    "match x:\n    case object(gi_frame=f):\n        pass": "frames",
    "class A:\n    def __array_namespace__(self):\n        return None": "result-type",
}
HONEST_SNIPPETS = [
    "import logging\nlogging.Formatter('{message}', style='{')",
    "class X(style='{'):\n    pass".replace("style='{'", ""),
    "x = np.load('x.npy')",
    "import numba\nfrom numba import types\nt = numba.types.float32",
    "def f(x: int, y: np.ndarray) -> float:\n    z: float = 1.0\n    return z",
    "from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n    def __post_init__(self):\n        pass",
    "match p:\n    case P(x=0):\n        pass",
    "LIMIT = 3\ndef f(v):\n    return min(v, LIMIT)",
]


@pytest.mark.parametrize("code", list(SNIPPETS))
def test_snippet_is_held(source01, code):
    hits = _source_policy(source01).check([(0, code)])
    assert SNIPPETS[code] in {h.construct for h in hits}, hits


@pytest.mark.parametrize("code", HONEST_SNIPPETS)
def test_honest_snippet_is_not_held(source01, code):
    assert _source_policy(source01).check([(0, code)]) == []


ROUND3 = {
    "import _signal": "signals",
    "import _posixsubprocess": "processes",
    "import _lsprof": "dynamic-code",
    "import socketserver": "concurrency",
    "from numba.extending import intrinsic": "native-code",
    "np.lib.stride_tricks.as_strided(x, (10**6,), (1,))": "native-code",
    "match s:\n    case str() as src:\n        pass\ndef f(x: src):\n    pass": "dynamic-code",
    "def f(x: typing.Optional['__import__(\"os\")']):\n    pass": "import-machinery",
    "import os\nos.pidfd_send_signal(0, 2)": "processes",
    # makes torch.testing.assert_close pass on any tensors (tried on the CPU build of torch)
    "import torch\nlib = torch.library.Library('aten', 'IMPL')\n"
    "lib.impl('isclose', lambda a, b, *r: (a == a) | True, 'CPU')": "monkeypatch",
    "from torch.library import Library": "monkeypatch",
    "import torch.library": "monkeypatch",
}


@pytest.mark.parametrize("code", list(ROUND3))
def test_round_three_is_held(source01, code):
    hits = _source_policy(source01).check([(0, code)])
    assert ROUND3[code] in {h.construct for h in hits}, hits


@pytest.mark.slow
def test_nan_written_into_the_inputs_earns_nothing(worker, source01):
    # The course's tests take the expected value before the launch: NaN written into the input
    # as well as the output no longer passes assert_allclose (7/10 before).
    r = worker.grade(source01, fixture_bytes("cheat_h2_nan_into_inputs"), name="nan.ipynb")
    assert r.score == 0, [(c.grade_id, c.points) for c in r.cells]
