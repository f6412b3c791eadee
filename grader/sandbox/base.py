"""The sandbox interface: something that can start one isolated Jupyter kernel per submission.

A sandbox only starts and ends kernels; talking to the kernel (executing cells, timeouts, output
caps) is the executor's job and is the same for every sandbox. A container or Kubernetes Job
sandbox implements the same two classes and registers itself under a name.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from jupyter_client.blocking import BlockingKernelClient

    from ..device import Device
    from ..limits import Limits


class SandboxError(RuntimeError):
    """The sandbox could not start a kernel (not the submission's fault)."""


class KernelHandle(abc.ABC):
    """One running, isolated kernel. Used for one submission, then closed."""

    #: Connected client; its channels are started.
    client: BlockingKernelClient
    #: Notes about how the kernel was isolated ("network namespace unavailable", ...).
    notes: list[str]

    @abc.abstractmethod
    def is_alive(self) -> bool:
        """Whether the kernel process is still running."""

    @abc.abstractmethod
    def interrupt(self) -> None:
        """Ask the running cell to stop (SIGINT for an IPython kernel)."""

    @abc.abstractmethod
    def kill(self) -> None:
        """End the kernel and every process it started. Idempotent."""

    @abc.abstractmethod
    def close(self) -> None:
        """Kill, then release everything the kernel held (directories, uid slot)."""

    def set_low_priority(self, low: bool) -> None:  # noqa: B027 - optional for a sandbox
        """Give the kernel's processes the lowest CPU priority (True), or the normal one back."""

    def count_threads(self) -> int | None:
        """Threads of all the kernel's processes, counted from outside the kernel (a control
        group, /proc); None when this sandbox cannot count them."""
        return None

    def busy_seconds(self) -> float | None:
        """Seconds the threads of all the kernel's processes have spent on a CPU or runnable and
        waiting for one, measured from outside the kernel: it keeps growing for a computing
        kernel on a busy machine, not for a sleeping one. None when this sandbox cannot tell."""
        return None

    def cpu_seconds(self) -> float | None:
        """CPU seconds all the kernel's processes have used so far, measured from outside the
        kernel; None when this sandbox cannot tell."""
        return None

    def log_tail(self, limit: int = 4000) -> str:
        """The end of what the kernel process wrote to its own stderr (start-up failures)."""
        return ""

    def exit_reason(self) -> str | None:
        """Why the kernel process ended, when it is known (a signal, a limit)."""
        return None


class Sandbox(abc.ABC):
    """Starts kernels. Registered by ``name`` so deployments choose one in settings."""

    name: ClassVar[str]

    def __init__(self, limits: Limits, device: Device) -> None:
        self.limits = limits
        self.device = device

    @abc.abstractmethod
    def start_kernel(self) -> KernelHandle:
        """Start a fresh kernel and return once it answers. Raises SandboxError."""

    def close(self) -> None:  # noqa: B027 - most sandboxes hold nothing between kernels
        """Release what the sandbox holds between kernels (a fork server, say)."""

    def describe(self) -> dict:
        """What isolation this sandbox provides here, for logs and docs."""
        return {"sandbox": self.name}


_REGISTRY: dict[str, type[Sandbox]] = {}


def register(cls: type[Sandbox]) -> type[Sandbox]:
    """Class decorator: make a sandbox available under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def get_sandbox_class(name: str) -> type[Sandbox]:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise SandboxError(f"unknown sandbox {name!r} (known: {known})") from None
