"""NetworkPolicies: Postgres and Redis reachable only from the backend and backup jobs.
Later issue (together with the data tier they protect).
"""

from __future__ import annotations

from typing import Any

from ..models import TccLog


def render_network_policies(tcclog: TccLog) -> list[dict[str, Any]]:
    return []
