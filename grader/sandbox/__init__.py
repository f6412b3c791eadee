"""Sandboxes that run one submission's kernel each. See base.py for the interface."""

from .base import KernelHandle, Sandbox, SandboxError, get_sandbox_class, register
from .process import ProcessSandbox

__all__ = [
    "KernelHandle",
    "ProcessSandbox",
    "Sandbox",
    "SandboxError",
    "get_sandbox_class",
    "register",
]
