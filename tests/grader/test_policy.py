"""The AST policy, the plain-data partial-credit rule and the hidden-test redaction, without a
kernel (the kernel-backed suite is test_policy_attacks.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbgrader import utils

from grader import plain
from grader.execute import CellRun
from grader.hidden import HIDDEN_NOTE, hidden_lines, hide_outputs, redact_outputs
from grader.policy import policy_for
from grader.scoring import CellVerdict, score_cell

ROOT = Path(__file__).resolve().parents[2]
GIVEN = "import numpy as np\nfrom numba import cuda\nfrom numpy.testing import assert_allclose"
TESTS = "assert square(3) == 9\nassert isinstance(square(2), int)\nassert_allclose(1, 1)"


def hits(code: str, allow=()):
    policy = policy_for([GIVEN], [TESTS], ["def square(x):\n    return x * x"], allow)
    return policy.check([(2, code)])


@pytest.mark.parametrize(
    ("code", "construct"),
    [
        ("x = get_ipython()", "shell"),
        ("g = getattr\ng(np, 'testing')", "dynamic-attribute"),
        ("n = 'x'\ngetattr(np, n)", "dynamic-attribute"),
        ("getattr(np.testing, 'assert_allclose')", "dynamic-attribute"),  # no: literal, allowed
        ("import sys\nsys._getframe(1)", "frames"),
        ("from sys import _getframe", "frames"),
        ("import sys as s\ns.modules['numpy']", "import-machinery"),
        ("print(_i3)", "input-history"),
        ("print(_ih[-1])", "input-history"),
        ("x = __builtins__", "import-machinery"),
        ("np.allclose = abs", "monkeypatch"),
        ("assert_allclose = print", "rebind"),
        ("def isinstance(a, b):\n    return True", "rebind"),
        ("import numpy.testing as np", "rebind"),
        ("class F(float):\n    pass", "result-type"),
        ("class A:\n    def __array_function__(self, *a):\n        return True", "result-type"),
        ("class A:\n    __eq__ = lambda s, o: True", "result-type"),
        ("exec(input())", "dynamic-code"),
        ("exec('import ctypes')", "native-code"),
        ("import threading", "concurrency"),
        ("%load_ext foo", "magic"),
        ("%timeit get_ipython()", "shell"),
        ("x = (1).__class__.__base__.__subclasses__()", "dunder"),
        ("import not_a_module_anywhere_kc", "unknown-module"),
        ("\uff47\uff45\uff54_\uff49\uff50\uff59\uff54\uff48\uff4f\uff4e()", "shell"),
        ("x = np.ma.masked_all(3)", "result-type"),
        ("from numpy import ma", "result-type"),
        ("s = '{0.__globals__}'.format(f)", "dunder"),
        ("exit._ip.events", "shell"),
        ("(t := np.testing).assert_allclose = print", "monkeypatch"),
        ("del np.testing.assert_allclose", "monkeypatch"),
        ("p = np.zeros(1).ctypes.data", "native-code"),
        ("f = open('/proc/self/mem', 'r+b')", "native-code"),
        ("from numba import carray", "native-code"),
        # issue 9, second round (tests/fixtures/attacks/cheats.py has each in a kernel)
        (
            "class H:\n    def f(self):\n        self.assert_x = print\nH.f(np.testing)",
            "monkeypatch",
        ),
        ("class H:\n    def __init__(self):\n        pass\nH.__init__(np)", "dunder"),
        ("match 1:\n    case np:\n        pass", "rebind"),
        ("match {}:\n    case {**np}:\n        pass", "rebind"),
        ("make = type\nA = make('A', (), {})", "result-type"),
        ("A = type(*['A', (), {}])", "result-type"),
        ("ns = dict(__eq__=lambda s, o: True)", "result-type"),
        ("class R:\n    match 1:\n        case __eq__:\n            pass", "result-type"),
        ("from numpy.lib.recfunctions import ma", "result-type"),
        ("import os\nm = os.sys.modules", "import-machinery"),
        ("    np.allclose = print", "monkeypatch"),
        (">>> np.allclose = print", "monkeypatch"),
        ("s = ('{0.__trace' + 'back__}').format(e)", "dynamic-attribute"),
        ("fmt = '{0.f_back}'\nfmt.format_map({})", "dynamic-attribute"),
    ],
)
def test_policy_finds_the_construct(code, construct):
    found = hits(code)
    if code.startswith("getattr(np.testing"):
        assert found == []  # a literal name is resolved and this one is harmless to read
        return
    assert construct in {h.construct for h in found}, [h.reason for h in found]
    first = found[0]
    assert first.reason.startswith(f"cell 3, line {first.line}: `")


@pytest.mark.parametrize(
    "code",
    [
        "def square(x):\n    return x * x",
        "import math\nclass P:\n    def __init__(self):\n        self.sum = 0\n        self.allclose = 1",
        "%timeit -n 1 square(3)\n",
        "a = np.arange(4)\nprint(a.shape, a.__cuda_array_interface__ if False else None)",
        "for _ in range(3):\n    pass\nif __name__ == '__main__':\n    print('x')",
        "import numpy as np\nfrom numba import cuda\nimport torch",
        "def square(x):\n    sum = 0\n    max = 1\n    return x * x",
        "class Launch:\n    def __init__(self, kernel):\n        self.kernel = kernel\n"
        "        self.events = []",
        "print('{:.2f} ms, {name}'.format(1.5, name='x'))",
        "x = type(3)\nclass B(Exception):\n    def __init__(self):\n        super().__init__('b')",
        "try:\n    pass\nexcept ValueError as err:\n    print(err)",
        "match [1, 2]:\n    case [first, *rest]:\n        print(first, rest)",
    ],
)
def test_policy_leaves_honest_code_alone(code):
    assert hits(code) == [], [h.reason for h in hits(code)]


@pytest.mark.parametrize(
    "code",
    ["x = " + "+".join(["a"] * 50000), "x = " + "-" * 20000 + "a", "x = " + "not " * 5000 + "a"],
)
def test_code_too_deep_to_check_is_a_hit_not_a_crash(code):
    assert [h.construct for h in hits(code)] == ["unchecked"]


def test_a_module_the_solution_imports_stays_protected():
    policy = policy_for(
        [], ["assert square(2) == 4"], ["import math\ndef square(x):\n    return x * x"]
    )
    assert policy.check([(1, "import math\ndef square(x):\n    return x * x")]) == []
    found = policy.check([(1, "import types\nmath = types.SimpleNamespace(isclose=print)")])
    assert "rebind" in {h.construct for h in found}


def test_storing_what_the_tests_read_from_a_module_is_a_hit_on_any_object():
    # The object may be the module under a name no scan follows (a default argument, a
    # parameter, a list item): np.ones returning zeros made a copying kernel pass a + b.
    policy = policy_for(["import numpy as np"], ["assert (np.ones(3) == 1).all()"], [])
    for code in (
        "def f(m=np):\n    m.ones = print\nf()",
        "def f(m):\n    m.ones = print\nf(np)",
        "mods = [np]\nmods[0].ones = print",
        "class Box:\n    m = np\nBox.m.ones = print",
    ):
        found = policy.check([(1, code)])
        assert "monkeypatch" in {h.construct for h in found}, code
    assert policy.check([(1, "class G:\n    def __init__(self):\n        self.ones = 1")]) == []


def test_allow_list_by_construct_or_by_name():
    assert hits("import threading", allow=["concurrency"]) == []
    assert hits("import threading", allow=["threading"]) == []
    assert hits("import threading", allow=["getattr"]) != []


def test_no_reference_solution_of_the_curriculum_is_held():
    checked = 0
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        locked, tests, solutions, student = [], [], [], []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if "nbgrader" in cell.metadata and utils.is_solution(cell):
                solutions.append(cell.source)
                student.append((index, cell.source))
            elif "nbgrader" in cell.metadata and utils.is_grade(cell):
                tests.append(cell.source)
            elif "nbgrader" in cell.metadata and utils.is_locked(cell):
                locked.append(cell.source)
            else:
                student.append((index, cell.source))
        allow = nb.metadata.get("kernelcamp", {}).get("allow", [])
        found = policy_for(locked, tests, solutions, allow).check(student)
        assert found == [], (path.name, [h.reason for h in found])
        checked += 1
    assert checked >= 22


def _test_cell(source: str, outputs: list[dict], points: float = 2.0) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": "t",
        "points": points,
        "schema_version": 3,
    }
    cell.outputs = [NotebookNode(o) for o in outputs]
    return cell


def _result(text: str) -> dict:
    return {
        "output_type": "execute_result",
        "data": {"text/plain": text},
        "metadata": {},
        "execution_count": 1,
    }


ERR = {"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}


def test_a_result_published_before_a_failure_earns_nothing():
    # nbgrader returns at the first execute_result and would award full points here.
    cell = _test_cell("assert square(3) == 9", [_result("'full marks'"), ERR])
    assert utils.determine_grade(cell)[0] == 2.0
    assert plain.determine_grade(cell)[0] == 0.0
    scored = score_cell(cell, CellVerdict(CellRun("error")), True)
    assert (scored.status, scored.points) == ("failed", 0.0)


def test_a_result_the_test_cannot_compute_is_ignored():
    cell = _test_cell("assert square(3) == 9", [_result("0.5")])
    points, note = plain.determine_grade(cell)
    assert points == 2.0 and "ignored" in note
    cell = _test_cell("assert square(3) == 9\nprint('ok')", [_result("0.5")])
    assert plain.determine_grade(cell)[0] == 2.0


def test_partial_credit_reads_a_plain_number_from_the_tests_own_result():
    assert plain.determine_grade(_test_cell("grade()", [_result("1.5")]))[0] == 1.5
    assert plain.determine_grade(_test_cell("grade()", [_result("5e-1")]))[0] == 0.5
    # out of range: nbgrader raises; here 0 with a note, no crash
    points, note = plain.determine_grade(_test_cell("grade()", [_result("7")]))
    assert points == 0.0 and "outside" in note
    # the last result is the test's own (a student's result published earlier comes first)
    two = _test_cell("grade()", [_result("2"), _result("0.25")])
    assert plain.determine_grade(two)[0] == 0.25


HIDDEN_SOURCE = (
    "assert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-2) == 4\n### END HIDDEN TESTS"
)


def test_hidden_cells_show_nothing_the_code_printed():
    cell = _test_cell(HIDDEN_SOURCE, [])
    cell.outputs = [
        NotebookNode(output_type="stream", name="stdout", text="assert square(-2) == 4\n"),
        NotebookNode(
            output_type="error",
            ename="ValueError",
            evalue="assert square(-2) == 4",
            traceback=["assert square(-2) == 4"],
        ),
    ]
    hide_outputs(cell)
    text = str(cell.outputs)
    assert "square(-2)" not in text and HIDDEN_NOTE in text
    assert cell.outputs[-1].ename == "ValueError"  # still an error: still scores 0
    assert plain.determine_grade(cell)[0] == 0.0


def test_a_skip_line_the_test_does_not_print_is_hidden():
    # The student's function, called by the hidden test, printed its arguments as a skip line.
    source = 'print("KERNELCAMP-SKIP: needs a GPU")\n' + HIDDEN_SOURCE
    cell = _test_cell(source, [])
    cell.outputs = [
        NotebookNode(output_type="stream", name="stdout", text="KERNELCAMP-SKIP: 3 -2\n"),
        NotebookNode(output_type="stream", name="stdout", text="KERNELCAMP-SKIP: needs a GPU\n"),
    ]
    hide_outputs(cell)
    text = str(cell.outputs)
    assert "-2" not in text and "KERNELCAMP-SKIP: needs a GPU" in text


def test_hidden_lines_are_cut_from_every_output():
    lines = hidden_lines(HIDDEN_SOURCE)
    assert lines == ["assert square(-2) == 4"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(stash)")]
    nb.cells[0].outputs = [
        NotebookNode(output_type="stream", name="stdout", text="['x', 'assert square(-2) == 4']\n")
    ]
    assert redact_outputs(nb, lines) == 1
    assert "square(-2)" not in nb.cells[0].outputs[0].text
    assert nb.cells[0].outputs[0].name == "stdout"
