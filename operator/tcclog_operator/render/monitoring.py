"""PrometheusRule and ServiceMonitor/PodMonitor. Later issue.

Those kinds exist only where the Prometheus Operator CRDs are installed, so the caller
says whether they are available; without them this returns [] and status says why.
"""

from __future__ import annotations

from typing import Any

from ..models import TccLog


def render_monitoring(tcclog: TccLog, *, prometheus_crds_present: bool) -> list[dict[str, Any]]:
    return []
