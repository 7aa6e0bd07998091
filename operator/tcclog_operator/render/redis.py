"""Redis (1 master + replicas) and Sentinel StatefulSets, Services, PDB. Later issue.

Names (`<name>-redis`, `<name>-sentinel`, `<name>-sentinel-headless`) and the master set
name already live in render/meta.py, because the backend's config refers to them.
"""

from __future__ import annotations

from typing import Any

from ..models import TccLog
from .credentials import SecretValues
from .meta import RenderSettings


def render_redis(
    tcclog: TccLog, settings: RenderSettings, secret_values: SecretValues
) -> list[dict[str, Any]]:
    return []
