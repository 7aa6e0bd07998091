"""What a change of a child means: a reconcile of the TccLog it belongs to (or of the
TccLogBackup whose Job it is).

A deleted or hand-edited child is seen within the watch latency (watches.py) and its
TccLog is reconciled at once, which restores it. Only TccLogs this replica holds
(holds.py) are reconciled: another replica may be the one acting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models.tcclog import KIND
from ..models.tcclogbackup import BACKUP_KIND
from ..reconcile import revision
from ..render.meta import INSTANCE_LABEL, ROLE_LABEL
from .backups import converge_request_of_job
from .run import in_worker, request_reconcile


def observed_signature(body: Mapping[str, Any]) -> tuple[Any, ...] | None:
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


def _observed_changed(body: Mapping[str, Any], memo: Any, event_type: str) -> bool:
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


def on_child_change(event_type: str, body: Mapping[str, Any], memo: Any) -> None:
    """Runs in the event loop and never waits: it only decides which TccLog (or
    TccLogBackup) to converge and hands that to a worker thread."""
    metadata = body["metadata"]
    namespace = metadata["namespace"]
    controller: dict[str, Any] = next((ref for ref in metadata.get("ownerReferences", [])
                                       if ref.get("controller")), {})
    # Pods (of StatefulSets) and Jobs (of CronJobs or requests) reach their TccLog by label.
    by_label = memo.holds.get(namespace, (metadata.get("labels") or {}).get(INSTANCE_LABEL, ""))
    if body["kind"] == "Job" and controller.get("kind") == BACKUP_KIND and by_label is not None:
        in_worker(memo, by_label.logger, "backup request", converge_request_of_job,
                  namespace, controller["name"], memo, by_label.logger,
                  context=by_label.context)
    if observed_signature(body) is not None:
        if _observed_changed(body, memo, event_type) and by_label is not None:
            request_reconcile(by_label.body, memo, by_label.logger, trigger="observed",
                              context=by_label.context)
        return
    if controller.get("kind") != KIND:
        return
    deleted = event_type == "DELETED"
    answers = memo.applied.get(controller["uid"], {})
    key = (body["kind"], metadata["name"])
    if deleted or (key in answers and revision(body) >= answers[key][0]):
        # Our answer from the last apply must not hide a deletion from the reconcile;
        # once the watch has caught up with it, it is no fresher than the store.
        answers.pop(key, None)
    owner = memo.holds.get(namespace, controller["name"], controller["uid"])
    if owner is not None:
        # The garbage collector deletes children after their TccLog is gone, and kopf
        # may not have told us yet: ask the API before recreating anything.
        request_reconcile(owner.body, memo, owner.logger, trigger="child",
                          confirm_owner=deleted, context=owner.context)
