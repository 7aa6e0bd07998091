"""The local Kubernetes control plane used by tests, CI and `make demo`."""

from .local import LocalCluster, build_binaries, running_cluster

__all__ = ["LocalCluster", "build_binaries", "running_cluster"]
