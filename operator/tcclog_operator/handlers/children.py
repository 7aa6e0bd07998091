"""Watches of the children: in-memory indexes, and a reconcile of the owner on any change.

A deleted or hand-edited child is seen here within the watch latency and the owner
is reconciled at once, which restores it. The watches are filtered by label on the
API server (see startup.py), so the operator never streams the whole cluster.
"""

from __future__ import annotations

from typing import Any

import kopf

from .. import drift
from ..kube import CHILD_RESOURCES, Resource
from ..models.tcclog import KIND
from ..models.tcclogbackup import BACKUP_KIND
from ..reconcile import revision
from ..render.meta import INSTANCE_LABEL, MANAGED_BY_SELECTOR, ROLE_LABEL
from .backups import converge_request_of_job
from .run import in_worker, request_reconcile

_MANAGED_BY = dict([MANAGED_BY_SELECTOR.split("=", 1)])


def index_id(resource: Resource) -> str:
    return f"children_{resource.plural}"


async def _index_child(*, namespace: str | None, labels: kopf.Labels, body: kopf.Body,
                       **_: Any) -> dict[tuple[str, str], Any]:
    return {(namespace or "", labels.get(INSTANCE_LABEL, "")): drift.packed(body)}


def observed_signature(body: kopf.Body) -> tuple[Any, ...] | None:
    """What of a Pod or Job matters to a TccLog's status; None for the kinds we apply.

    Patroni rewrites its pods' status annotation every few seconds; reconciling on each
    would burn CPU for nothing. Only a role change (failover) or a Job finishing does.
    """
    if body["kind"] == "Pod":
        return ((body["metadata"].get("labels") or {}).get(ROLE_LABEL),)
    if body["kind"] == "Job":
        return tuple(sorted(c.get("type", "") for c in
                            (body.get("status") or {}).get("conditions") or []
                            if c.get("status") == "True"))
    return None


def _observed_changed(body: kopf.Body, memo: Any, event_type: str | None) -> bool:
    uid = body["metadata"]["uid"]
    if event_type == "DELETED":
        memo.observed.pop(uid, None)
        return False
    # First sight (operator start, a new pod) is no change: the resume handler and the
    # StatefulSet's own events already reconcile then.
    signature = observed_signature(body)
    changed = uid in memo.observed and memo.observed[uid] != signature
    memo.observed[uid] = signature
    return changed


async def _on_child_event(*, body: kopf.Body, memo: Any, logger: kopf.Logger,
                          **kwargs: Any) -> None:
    """Runs in the event loop and never waits: it only decides which TccLog (or
    TccLogBackup) to converge and hands that to a worker thread."""
    tcclogs: kopf.Index[tuple[str, str], Any] = kwargs["tcclogs"]
    namespace = body["metadata"]["namespace"]
    controller: dict[str, Any] = next((ref for ref in body["metadata"].get("ownerReferences", [])
                       if ref.get("controller")), {})
    if body["kind"] == "Job" and controller.get("kind") == BACKUP_KIND:
        in_worker(memo, logger, "backup request", converge_request_of_job,
                  namespace, controller["name"], memo, logger)
    if observed_signature(body) is not None:
        # Pods (of StatefulSets) and Jobs (of CronJobs) reach their TccLog by label.
        if not _observed_changed(body, memo, kwargs.get("type")):
            return
        instance = (body["metadata"].get("labels") or {}).get(INSTANCE_LABEL, "")
        for packed in tcclogs.get((namespace, instance), []):
            request_reconcile(drift.unpacked(packed), memo, logger, trigger="observed",
                              indexes=kwargs)
        return
    owner = controller if controller.get("kind") == KIND else None
    if owner is None:
        return
    deleted = kwargs.get("type") == "DELETED"
    answers = memo.applied.get(owner["uid"], {})
    key = (body["kind"], body["metadata"]["name"])
    if deleted or (key in answers and revision(body) >= answers[key][0]):
        # Our answer from the last apply must not hide a deletion from the reconcile;
        # once the watch has caught up with it, it is no fresher than the index.
        answers.pop(key, None)
    for packed in tcclogs.get((namespace, owner["name"]), []):
        tcclog = drift.unpacked(packed)
        if tcclog["metadata"]["uid"] == owner["uid"]:
            # The garbage collector deletes children after their TccLog is gone, and our
            # index of TccLogs may not know that yet: ask the API before recreating anything.
            request_reconcile(tcclog, memo, logger, trigger="child", indexes=kwargs,
                              confirm_owner=deleted)


for _resource in CHILD_RESOURCES:
    _selector = (_resource.api_version, _resource.plural)
    kopf.index(*_selector, id=index_id(_resource), labels=_MANAGED_BY)(_index_child)
    kopf.on.event(*_selector, id=f"on_{_resource.plural}", labels=_MANAGED_BY)(_on_child_event)
