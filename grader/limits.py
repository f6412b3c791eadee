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
    #: Wall-clock per cell; the cell is interrupted, and if it ignores that, the kernel is killed.
    cell_timeout: float = 30.0
    #: After an interrupt, how long a cell has to stop before the kernel is killed.
    interrupt_grace: float = 2.0
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
    #: Output received in one cell after which the cell is stopped (a print loop).
    output_stop_bytes: int = 8 * 1024**2
    #: A cell running longer than this yields the CPU (lowest scheduling priority) until it
    #: ends, so one submission's endless loop does not slow everyone else's feedback.
    deprioritize_after: float = 5.0
    #: Kernel start-up allowance (not part of the notebook's time).
    startup_timeout: float = 60.0
    #: Modules imported by a warm kernel before it is handed a submission.
    preload: tuple[str, ...] = field(default=("numpy", "numba", "numba.cuda"))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["preload"] = list(self.preload)
        return data
