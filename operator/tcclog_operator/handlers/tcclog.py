"""Kopf handlers of the TccLog itself: thin wrappers around `reconcile`."""

from __future__ import annotations

from typing import Any

import kopf

from .. import drift, metrics
from ..models.tcclog import GROUP, PLURAL, VERSION
from ..settings import OperatorSettings
from .run import run_reconcile

# Decorator arguments are fixed when handlers are imported, i.e. at operator start.
_SETTINGS = OperatorSettings()
TCCLOGS = (GROUP, VERSION, PLURAL)


@kopf.index(*TCCLOGS)
async def tcclogs(*, namespace: str | None, name: str, body: kopf.Body,
                  **_: Any) -> dict[tuple[str, str], Any]:
    """TccLog bodies (packed) by (namespace, name), so child events can find their owner."""
    return {(namespace or "", name): drift.packed(body)}


@kopf.on.resume(*TCCLOGS)
@kopf.on.create(*TCCLOGS)
@kopf.on.update(*TCCLOGS)
def converge(*, body: kopf.Body, memo: Any, logger: kopf.Logger, reason: str,
             **kwargs: Any) -> None:
    run_reconcile(body, memo, logger, trigger=str(reason), indexes=kwargs)


@kopf.timer(*TCCLOGS, interval=_SETTINGS.resync_interval_seconds,
            initial_delay=_SETTINGS.resync_interval_seconds)
def resync(*, body: kopf.Body, memo: Any, logger: kopf.Logger, **kwargs: Any) -> None:
    """Level-based safety net: converge even if a watch event was missed."""
    run_reconcile(body, memo, logger, trigger="resync", indexes=kwargs)


@kopf.on.delete(*TCCLOGS, optional=True)
def deleted(*, body: kopf.Body, memo: Any, **_: Any) -> None:
    """Children go by garbage collection (owner references); only forget our memory."""
    metadata = body.get("metadata", {})
    memo.last_status.pop(metadata.get("uid"), None)
    memo.applied.pop(metadata.get("uid"), None)
    memo.desired.forget(metadata.get("uid"))
    memo.sentinels.forget(metadata.get("uid"))
    memo.patroni_synced.pop(metadata.get("uid"), None)
    memo.leaders.pop(metadata.get("uid"), None)
    memo.slots.pop(metadata.get("uid"), None)
    metrics.forget(metadata.get("namespace", ""), metadata.get("name", ""))
