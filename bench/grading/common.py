"""What every part of the grading benchmark shares: paths, the source notebook, thread counts."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SOURCE = REPO / "notebooks" / "cuda-numba" / "01-threads-and-maps.ipynb"
NB_NAME = SOURCE.stem
ASSIGNMENT = "a1"
COURSE_ID = "bench"
OUT = Path(__file__).resolve().parent / "out"
VENV_BIN = Path(sys.executable).parent
#: Same thread counts as the sandbox gives its kernels (grader/sandbox/process.py).
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}
