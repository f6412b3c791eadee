import os

# The grader's kernels and any numba import in the test process must use the simulator here.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
