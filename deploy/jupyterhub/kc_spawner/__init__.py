"""KernelCamp's JupyterHub spawner: one unprivileged Unix account, one mount namespace and one
control group per student's server (see docs/sessions.md, "Isolation")."""

from kc_spawner.spawner import KernelCampSpawner

__all__ = ["KernelCampSpawner"]
