"""The one call every handler makes: gather the watched children, reconcile, report."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import kopf

from .. import metrics, packing
from ..kube import MONITORING_GROUP, MONITORING_VERSION, ApiError, Kube
from ..models import TccLog
from ..reconcile import (
    ApplyFailed,
    Outcome,
    merge_observed,
    reconcile,
    revision,
)

CHILDREN_LISTED_TIMEOUT = 60.0


class PrometheusProbe:
    """Whether the Prometheus Operator API is served, asked at most every `interval` s.

    On an error the last answer stands: treating a hiccup as "absent" would make the
    reconcile prune every PrometheusRule and monitor.
    """

    def __init__(self, kube: Kube, interval: float) -> None:
        self._kube, self._interval = kube, interval
        self._lock = threading.Lock()
        self._present = False
        self._checked = float("-inf")

    def present(self) -> bool:
        with self._lock:
            if time.monotonic() - self._checked >= self._interval:
                try:
                    self._present = self._kube.api_available(
                        MONITORING_GROUP, MONITORING_VERSION, "prometheusrules")
                    self._checked = time.monotonic()
                except (ApiError, OSError):
                    pass
            return self._present


@dataclass
class ReconcileSlot:
    """One TccLog's reconciles: at most one runs; what arrives meanwhile asks for one more
    round instead of waiting in line. Creating a TccLog makes ~30 children and each of
    their events asks for a reconcile; queued, they would hold every worker thread and
    repeat the same work ~30 times; coalesced, they cost one or two rounds."""

    guard: threading.Lock = field(default_factory=threading.Lock)
    busy: bool = False
    again: bool = False


def _claim(memo: Any, uid: str) -> ReconcileSlot | None:
    """The slot if the caller is to run the reconcile; None if one is running (it will
    go round once more)."""
    slot: ReconcileSlot = memo.slots.setdefault(uid, ReconcileSlot())
    with slot.guard:
        if slot.busy:
            slot.again = True
            return None
        slot.busy = True
    return slot


def run_reconcile(body: Mapping[str, Any], memo: Any, logger: kopf.Logger, *,
                  trigger: str) -> None:
    """Reconcile now, in this (worker) thread: the TccLog's own handlers, whose errors
    kopf retries."""
    slot = _claim(memo, body["metadata"]["uid"])
    if slot is not None:
        _drain(slot, body, memo, logger, trigger=trigger)


def request_reconcile(body: Mapping[str, Any], memo: Any, logger: kopf.Logger, *,
                      trigger: str, confirm_owner: bool = False,
                      context: contextvars.Context | None = None) -> None:
    """Ask for a reconcile from the event loop without waiting for it (child events,
    the resync daemon).

    Thousands of child events arrive while TccLogs converge; waiting for each reconcile
    would stall the watches. `confirm_owner`: ask the API server first whether the
    TccLog still exists (the garbage collector may be deleting its children).
    `context`: kopf's (see in_worker), when the caller runs outside kopf's tasks.
    """
    slot = _claim(memo, body["metadata"]["uid"])
    if slot is None:
        return
    in_worker(memo, logger, f"reconcile ({trigger})", _drain, slot, body, memo, logger,
              trigger=trigger, confirm_owner=confirm_owner, context=context)


def in_worker(memo: Any, logger: kopf.Logger, what: str, fn: Callable[..., None],
              *args: Any, context: contextvars.Context | None = None, **kwargs: Any) -> None:
    """Run `fn` in a reconcile thread, unawaited; a failure is logged (status and metrics
    already say so, and the resync daemon retries)."""
    # kopf.event() finds its queue through context variables: carry them to the thread
    # (a copy each time: one context cannot be entered by two threads at once).
    context = (context or contextvars.copy_context()).copy()
    future = memo.executor.submit(context.run, fn, *args, **kwargs)

    def report(done: Future[None]) -> None:
        if (error := done.exception()) is not None:
            logger.error("%s failed: %s", what, error)

    future.add_done_callback(report)


def _drain(slot: ReconcileSlot, body: Mapping[str, Any], memo: Any, logger: kopf.Logger, *,
           trigger: str, confirm_owner: bool = False) -> None:
    try:
        if confirm_owner and not _still_exists(body, memo):
            return
        current: Mapping[str, Any] | None = body
        while current is not None:
            _reconcile_once(current, memo, logger, trigger=trigger)
            with slot.guard:
                if not slot.again:
                    return
                slot.again = False
            current, trigger = _latest(body, memo), "coalesced"
    finally:
        with slot.guard:
            slot.busy = False


def _still_exists(body: Mapping[str, Any], memo: Any) -> bool:
    metadata = body["metadata"]
    live = memo.kube.get("TccLog", metadata["namespace"], metadata["name"])
    return live is not None and live["metadata"]["uid"] == metadata["uid"]


def _latest(body: Mapping[str, Any], memo: Any) -> Mapping[str, Any] | None:
    """The TccLog as kopf's watch last delivered it (None once this replica lets go)."""
    metadata = body["metadata"]
    hold = memo.holds.get(metadata["namespace"], metadata["name"], metadata["uid"])
    return dict(hold.body) if hold is not None else None


def _reconcile_once(body: Mapping[str, Any], memo: Any, logger: kopf.Logger, *,
                    trigger: str) -> None:
    body = dict(body)  # kopf's live body may change under a long reconcile
    uid = body["metadata"]["uid"]
    if body["metadata"].get("deletionTimestamp"):
        return  # garbage collection removes the children; recreating them would race it
    if not memo.children.wait_listed(CHILDREN_LISTED_TIMEOUT):
        # Unlisted children look missing: reconciling now would apply all of them again.
        raise kopf.TemporaryError("the watches have not listed the children yet", delay=5)
    started = time.perf_counter()
    with memo.locks[uid]:
        # The watch may not have delivered our own last status write yet: compare with it.
        last = memo.last_status.get(uid)
        if last is not None:
            body = {**body, "status": packing.unpack_json(last)}
        try:
            watched = memo.children.of(body["metadata"]["namespace"],
                                       body["metadata"]["name"])
            # Forget our own answers once the watch has delivered something as new (the
            # watch event may have come before the answer was stored); list(): child
            # events, in the event loop, drop entries meanwhile.
            answers = memo.applied[uid]
            for key, (answered, _) in list(answers.items()):
                if key in watched and revision(watched[key]) >= answered:
                    answers.pop(key, None)
            applied = {key: packing.unpacked(data) for key, (_, data) in list(answers.items())}
            outcome = reconcile(
                memo.kube, body, merge_observed(watched, applied),
                render_settings=memo.operator.render_settings(),
                prometheus_crds_present=memo.prometheus.present(),
                redis_master=memo.sentinels.master(TccLog.from_body(body)),
                sync_patroni_config=memo.patroni_synced.get(uid)
                != body["metadata"].get("generation"),
                known_leaders=memo.leaders.get(uid),
                now=datetime.now(UTC),
                desired_children=memo.desired,
            )
        except ApplyFailed as failed:
            metrics.reconcile_failed(body["metadata"]["namespace"], body["metadata"]["name"],
                                     trigger)
            _remember_and_post(body, memo, failed.outcome)
            raise kopf.TemporaryError(str(failed), delay=10) from failed
        except Exception:
            metrics.reconcile_failed(body["metadata"]["namespace"], body["metadata"]["name"],
                                     trigger)
            raise
        finally:
            metrics.RECONCILE_SECONDS.observe(time.perf_counter() - started)
        _remember_and_post(body, memo, outcome)
    metrics.RECONCILES.labels(trigger=trigger, outcome="ok").inc()
    if outcome.applied or outcome.pruned:
        logger.info("reconciled (%s): applied %s, pruned %s", trigger,
                    [f"{k}/{n}" for k, n in outcome.applied],
                    [f"{k}/{n}" for k, n in outcome.pruned])


def _remember_and_post(body: Mapping[str, Any], memo: Any, outcome: Outcome) -> None:
    uid = body["metadata"]["uid"]
    metrics.observe_status(body["metadata"]["namespace"], body["metadata"]["name"],
                           outcome.status, body["metadata"].get("creationTimestamp"))
    memo.applied[uid].update({key: (revision(obj), packing.packed(obj))
                              for key, obj in outcome.applied_objects.items()})
    if outcome.status_written:
        memo.last_status[uid] = packing.pack_json(outcome.status)
    memo.leaders[uid] = outcome.known_leaders
    if outcome.patroni_config_synced:
        memo.patroni_synced[uid] = body["metadata"].get("generation")
    target = kopf.Body(cast(kopf.RawBody, dict(body)))
    for event in outcome.events:
        kopf.event(target, type="Warning" if event.warning else "Normal",
                   reason=event.reason, message=event.message)
