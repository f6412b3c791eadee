"""Resource limits for one graded submission."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Times in seconds, sizes in bytes.

    The defaults fit the simulator-sized course notebooks on a 2-core machine; a course with
    larger work raises them per assignment.
    """

    #: Wall-clock for the whole notebook; the kernel is killed when it runs out.
    notebook_timeout: float = 120.0
    #: CPU seconds per cell (all of the kernel's processes and threads together): the cell is
    #: interrupted, and if it ignores that, the kernel is killed. CPU time rather than wall time,
    #: so that a heavy but honest cell gets the same verdict on a busy machine as on an idle one.
    cell_timeout: float = 30.0
    #: The cell limit actually applied is derived from the instructor's reference solution when
    #: that is lower: ``reference_factor`` times the CPU time of the reference's heaviest cell,
    #: at least ``reference_floor`` seconds (grader/reference.py). An endless loop then burns
    #: that, not ``cell_timeout``. None: no reference run, ``cell_timeout`` applies. A source
    #: notebook's ``kernelcamp.cell_cpu_limit`` metadata sets the limit instead.
    reference_factor: float | None = 10.0
    reference_floor: float = 10.0
    #: Wall-clock per cell, for a cell that sleeps or waits (it uses no CPU); time the kernel
    #: spends waiting for a CPU on a busy machine is not counted. None: 4 x cell_timeout.
    cell_wall_timeout: float | None = None
    #: After an interrupt, how long a cell has to stop before the kernel is killed. A simulated
    #: CUDA launch stops with its threads (grader/sandbox/_launcher.py), which on a busy machine
    #: takes a few GIL hand-overs among them; only a cell that ignores interrupts waits it out.
    interrupt_grace: float = 5.0
    #: CPU seconds for the kernel process (RLIMIT_CPU, SIGXCPU then SIGKILL).
    cpu_seconds: int = 300
    #: Address space of the kernel (RLIMIT_AS). numba.cuda + numpy + ipykernel map about 0.5 GB.
    memory_bytes: int = 2 * 1024**3
    #: Processes and threads of the sandbox user (RLIMIT_NPROC).
    max_processes: int = 256
    #: Largest file the kernel may write (RLIMIT_FSIZE).
    max_file_bytes: int = 64 * 1024**2
    #: Space for files in the working directory and /tmp (a tmpfs of this size when root).
    max_disk_bytes: int = 256 * 1024**2
    #: Open files (RLIMIT_NOFILE).
    max_open_files: int = 256
    #: Output kept per cell; the rest is cut and the result flagged "output-truncated".
    max_output_bytes: int = 256 * 1024
    #: Sizes the largest single message the grader accepts from the kernel (ZeroMQ drops any
    #: message over 4 x this). Output beyond max_output_bytes is dropped as it arrives and the
    #: cell goes on, bounded by its time limit: printing a lot is not a failure.
    output_stop_bytes: int = 8 * 1024**2
    #: When set, a cell running longer than this yields the CPU (lowest scheduling priority)
    #: until it ends. Off by default: with nice 19 a heavy honest cell on a busy machine could
    #: reach its wall-clock limit, so its score would depend on the load. The CPU-time limit
    #: already stops an endless loop after cell_timeout seconds of CPU.
    deprioritize_after: float | None = None
    #: Kernel start-up allowance (not part of the notebook's time).
    startup_timeout: float = 60.0
    #: Modules imported by a warm kernel before it is handed a submission.
    preload: tuple[str, ...] = field(default=("numpy", "numba", "numba.cuda"))

    @property
    def cell_wall_limit(self) -> float:
        return self.cell_wall_timeout or 4 * self.cell_timeout

    def cell_limit_from_reference(self, heaviest_cpu: float) -> float:
        """The cell CPU limit for an assignment whose reference needs ``heaviest_cpu`` seconds
        in its heaviest cell: never above ``cell_timeout``."""
        factor = self.reference_factor or 0.0
        return min(self.cell_timeout, max(self.reference_floor, factor * heaviest_cpu))

    @property
    def reference_can_lower(self) -> bool:
        """Whether a reference run can lower the cell limit (else it is not worth running)."""
        return self.reference_factor is not None and self.reference_floor < self.cell_timeout

    def to_dict(self) -> dict:
        data = asdict(self)
        data["preload"] = list(self.preload)
        return data


@dataclass(frozen=True)
class Bounds:
    """Sizes past which the grader refuses or cuts what a submission produces, so that no input
    can exhaust its memory or produce an unbounded result (docs/grader.md, "Bounds")."""

    #: Notebook file size; larger files are refused before parsing.
    max_notebook_bytes: int = 20 * 1024**2
    #: Nesting of the notebook's JSON (a real notebook nests about 10 deep).
    max_notebook_depth: int = 64
    #: Cells in one notebook.
    max_cells: int = 2000
    #: Nesting of a kernel message's content; deeper messages are refused, not parsed further.
    max_message_depth: int = 64
    #: Output kept for the whole notebook, over all cells (max_output_bytes is per cell).
    max_notebook_output_bytes: int = 2 * 1024**2
    #: Characters of an error's value and of each traceback line that are kept.
    max_error_chars: int = 10_000
    #: Characters of one cell's source shown in the feedback, and of all cells together.
    max_feedback_cell_source: int = 20_000
    max_feedback_sources: int = 1_000_000
    #: The feedback page; past it a short page with the scores alone is shown.
    max_feedback_bytes: int = 4 * 1024**2
    #: A cell's message, a reason, a log line in the result; and how many reasons and log lines.
    max_message_chars: int = 8_000
    max_reasons: int = 100
    max_log_lines: int = 400
    #: The result's JSON without the feedback page.
    max_result_bytes: int = 1024**2


BOUNDS = Bounds()
