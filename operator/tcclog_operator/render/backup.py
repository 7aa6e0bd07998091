"""Backup CronJobs (pgBackRest to S3, logical pg_dump via the app image). Later issue."""

from __future__ import annotations

from typing import Any

from ..models import TccLog
from .meta import RenderSettings


def render_backup(tcclog: TccLog, settings: RenderSettings) -> list[dict[str, Any]]:
    """[] while spec.backup is absent or disabled (and, for now, always)."""
    return []
