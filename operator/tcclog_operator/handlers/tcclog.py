"""Kopf handlers of the TccLog itself: thin wrappers around `reconcile`."""

from __future__ import annotations

from typing import Any

import kopf

from .. import metrics
from ..models.tcclog import GROUP, PLURAL, VERSION
from .holds import Hold
from .run import request_reconcile, run_reconcile

TCCLOGS = (GROUP, VERSION, PLURAL)


@kopf.on.resume(*TCCLOGS)
@kopf.on.create(*TCCLOGS)
@kopf.on.update(*TCCLOGS)
def converge(*, body: kopf.Body, memo: Any, logger: kopf.Logger, reason: str,
             **_: Any) -> None:
    run_reconcile(body, memo, logger, trigger=str(reason))


@kopf.daemon(*TCCLOGS, cancellation_timeout=10)
async def hold(*, stopped: kopf.DaemonStopped, body: kopf.Body, memo: Any,
               logger: kopf.Logger, **_: Any) -> None:
    """This replica's hold on the TccLog (holds.py) for as long as kopf runs it, and a
    level-based safety net: a reconcile every resync interval, even if a watch event
    was missed."""
    held = Hold(body, logger)
    memo.holds.take(held)
    try:
        while not await stopped.wait(memo.operator.resync_interval_seconds):
            request_reconcile(body, memo, logger, trigger="resync")
    finally:
        memo.holds.release(held)


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
