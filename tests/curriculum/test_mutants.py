"""The mutant suite: answers that cheat (NumPy or torch shortcuts, a naive kernel pasted as the
tiled one, missing barriers, barriers in divergent branches, NumPy called inside a kernel) are
graded through the real grader under the simulator and must lose the points of the tests they
target. Mutants of one notebook that touch different answer cells are graded together, so the
whole suite grades a handful of notebooks (two workers at once, as test_courses does)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import grader
from grader.source import make_release, notebook_bytes

from .mutants import Mutant
from .mutants.cuda_numba import MUTANTS as CUDA_MUTANTS
from .mutants.cuda_numba_host_work import MUTANTS as CUDA_HOST_WORK_MUTANTS
from .mutants.cuda_numba_inputs import MUTANTS as CUDA_INPUTS_MUTANTS
from .mutants.pytorch_gpu import MUTANTS as TORCH_MUTANTS
from .test_courses import source_of


def merged(*suites: dict[str, list[Mutant]]) -> dict[str, list[Mutant]]:
    """One list per notebook: a notebook's mutants may come from more than one file."""
    out: dict[str, list[Mutant]] = {}
    for suite in suites:
        for relative, mutants in suite.items():
            out.setdefault(relative, []).extend(mutants)
    return out


ALL_MUTANTS = merged(CUDA_MUTANTS, CUDA_HOST_WORK_MUTANTS, CUDA_INPUTS_MUTANTS, TORCH_MUTANTS)


def batches(mutants: list[Mutant]) -> list[list[Mutant]]:
    """Mutants packed into as few submissions as possible: no two in one submission replace the
    same answer cell."""
    packed: list[list[Mutant]] = []
    for mutant in mutants:
        for batch in packed:
            if not any(set(mutant.cells) & set(other.cells) for other in batch):
                batch.append(mutant)
                break
        else:
            packed.append([mutant])
    return packed


def mutated_submission(source, batch: list[Mutant]) -> bytes:
    """The release with the reference solutions in every answer cell, except the cells the
    batch's mutants replace."""
    release = make_release(source)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.cells}
    replaced = {gid: text for mutant in batch for gid, text in mutant.cells.items()}
    assert set(replaced) <= set(by_id), set(replaced) - set(by_id)
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("solution") and gid in by_id:
            cell.source = replaced.get(gid, by_id[gid].source)
    return notebook_bytes(release)


CASES = [
    (relative, index, batch)
    for relative, mutants in ALL_MUTANTS.items()
    for index, batch in enumerate(batches(mutants))
]


@pytest.fixture(scope="session")
def mutant_grades():
    local = threading.local()
    workers: list[grader.Worker] = []

    def grade(relative: str, batch: list[Mutant]):
        if not hasattr(local, "worker"):
            local.worker = grader.Worker(grader.Limits(), device="simulator")
            workers.append(local.worker)
        source = source_of(relative)
        return local.worker.grade(source, mutated_submission(source, batch), name="mutant.ipynb")

    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mutants")
    futures = {
        (relative, index): pool.submit(grade, relative, batch) for relative, index, batch in CASES
    }
    yield futures
    pool.shutdown(wait=True)
    for w in workers:
        w.close()


def test_batches_never_replace_one_cell_twice():
    for relative, index, batch in CASES:
        cells = [gid for mutant in batch for gid in mutant.cells]
        assert len(cells) == len(set(cells)), (relative, index)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relative", "index", "batch"),
    CASES,
    ids=[
        f"{relative.split('/')[1][:2]}-{relative.split('/')[0]}-{index}"
        for relative, index, _ in CASES
    ],
)
def test_cheating_answers_lose_their_points(relative, index, batch, mutant_grades):
    result = mutant_grades[(relative, index)].result()
    by_id = {c.grade_id: c for c in result.cells}
    kept = [
        (mutant.name, gid, by_id[gid].points)
        for mutant in batch
        for gid in mutant.loses
        if by_id[gid].points > 0
    ]
    assert not kept, f"cheats that still earned points: {kept}"
    assert result.score < result.max_score
