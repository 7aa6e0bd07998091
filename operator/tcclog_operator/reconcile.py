"""One path for create, resume, update, child events and the periodic resync.

    parse -> read secrets -> render -> apply what drifted -> prune -> status (if changed)

The children come from the operator's watches (watches.py), not from fresh LIST
calls, so an idle reconcile costs no request at all: it renders, compares and stops.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import drift, patroni_dcs, status, status_data, status_ops, storage
from .desired import DesiredChildren
from .kube import BY_KIND, ApiError, Kube
from .models import TccLog
from .render import (
    RenderSettings,
    endpoints,
    fill_secret_values,
    names,
    required_secrets,
    values_from_secret_objects,
)

ChildKey = tuple[str, str]  # (kind, name)


@dataclass(frozen=True)
class Event:
    """An Event to post on the TccLog (the handler posts it: only handlers import kopf)."""

    reason: str
    message: str
    warning: bool = False


@dataclass
class Outcome:
    applied: list[ChildKey] = field(default_factory=list)
    #: What the API server returned for each apply: fresher than the watch for a moment.
    applied_objects: dict[ChildKey, Mapping[str, Any]] = field(default_factory=dict)
    pruned: list[ChildKey] = field(default_factory=list)
    status_written: bool = False
    #: Last known PostgreSQL primary and Redis master (status_data.leader_events).
    known_leaders: dict[str, str] = field(default_factory=dict)
    #: Patroni's dynamic config matches this generation's spec (None: not checked).
    patroni_config_synced: bool | None = None
    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


class ApplyFailed(Exception):
    """Some child could not be applied; status already says so. Retry later."""

    def __init__(self, message: str, outcome: Outcome) -> None:
        super().__init__(message)
        self.outcome = outcome


def child_key(obj: Mapping[str, Any]) -> ChildKey:
    return obj["kind"], obj["metadata"]["name"]


def owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    return any(ref.get("uid") == uid and ref.get("controller")
               for ref in obj.get("metadata", {}).get("ownerReferences", []))


def reconcile(
    kube: Kube,
    body: Mapping[str, Any],
    children: Mapping[ChildKey, Mapping[str, Any]],
    *,
    render_settings: RenderSettings,
    prometheus_crds_present: bool = False,
    redis_master: str | None = None,
    sync_patroni_config: bool = False,
    known_leaders: Mapping[str, str] | None = None,
    now: datetime,
    desired_children: DesiredChildren | None = None,
) -> Outcome:
    """Converge one TccLog's children and status; return what was done.

    `children` are this TccLog's objects as last seen by the watches, keyed by
    (kind, name). They may lag a little behind the API server; that only costs an
    extra (idempotent) apply, never a wrong result, because server-side apply is
    declarative.
    """
    tcclog = TccLog.from_body(body)
    outcome = Outcome()
    secret_values = fill_secret_values(
        tcclog, values_from_secret_objects(_generated_secrets(kube, tcclog, children)))
    desired = (desired_children or DesiredChildren()).of(
        tcclog, render_settings, secret_values=secret_values,
        prometheus_crds_present=prometheus_crds_present)

    live, apply_error = _apply(kube, desired, children, outcome)
    _prune(kube, tcclog, desired, children, live, outcome)
    observed = _observe(tcclog, live, redis_master=redis_master,
                        prometheus_crds_present=prometheus_crds_present)
    if sync_patroni_config and observed.extra[0].status.primary:  # only once Patroni runs
        _sync_patroni(kube, tcclog, outcome)

    new_status = status.compute_status(tcclog, observed, endpoints=endpoints(tcclog), now=now,
                                       apply_error=apply_error)
    outcome.status = new_status.to_wire()
    moved, outcome.known_leaders = status_data.leader_events(
        {**status_data.leaders_of(tcclog.status), **(known_leaders or {})}, new_status)
    outcome.events.extend(_events(moved))
    if status.status_changed(tcclog.status, new_status):
        try:
            kube.patch_status(tcclog.metadata.namespace or "", tcclog.metadata.name,
                              status.status_patch(tcclog.status, new_status))
        except ApiError as exc:
            if exc.status != 404:
                raise
            return outcome  # deleted while we worked: its children go with it
        outcome.status_written = True
        outcome.events.extend(_events([*status.transition_events(tcclog.status, new_status),
                                       *status_ops.side_events(tcclog.status, new_status)]))
    if apply_error:
        raise ApplyFailed(apply_error, outcome)
    return outcome


def _apply(kube: Kube, desired: list[dict[str, Any]],
           children: Mapping[ChildKey, Mapping[str, Any]], outcome: Outcome
           ) -> tuple[dict[ChildKey, Mapping[str, Any]], str | None]:
    """Apply what drifted; (the children as they are now, the last apply error)."""
    live: dict[ChildKey, Mapping[str, Any]] = dict(children)
    apply_error: str | None = None
    changes: list[tuple[str, ChildKey]] = []
    for obj in desired:
        key = child_key(obj)
        current = children.get(key)
        if not drift.needs_apply(obj, current):
            continue
        try:
            if (obj["kind"] == "StatefulSet" and current is not None
                    and storage.needs_growth(obj, current)):
                resized = storage.grow(kube, obj, current)
                outcome.events.append(Event(status.EVENT_STORAGE_GROWN, (
                    f"Asked {', '.join(resized) or 'no claims'} for {storage.claim_size(obj)}; "
                    f"re-creating StatefulSet {key[1]} (its pods keep running)")))
            live[key] = kube.apply(obj)
        except ApiError as exc:
            # Reported in status and retried by the handler; the rest still converges.
            apply_error = f"{key[0]} {key[1]}: {exc.status} {exc.reason}: {exc.message}"
            outcome.events.append(Event(status.EVENT_APPLY_FAILED, apply_error, warning=True))
            continue
        outcome.applied.append(key)
        outcome.applied_objects[key] = live[key]
        changes.append(_change(obj, current))
    outcome.events.extend(_apply_events(changes))
    return live, apply_error


def _prune(kube: Kube, tcclog: TccLog, desired: list[dict[str, Any]],
           children: Mapping[ChildKey, Mapping[str, Any]],
           live: dict[ChildKey, Mapping[str, Any]], outcome: Outcome) -> None:
    """Delete what we own and no longer render (never what others own: Pods, Jobs)."""
    wanted = {child_key(obj) for obj in desired}
    for key, child in children.items():
        if key not in wanted and key[0] in BY_KIND and owned_by(child, tcclog.metadata.uid or ""):
            kube.delete(key[0], tcclog.metadata.namespace or "", key[1])
            live.pop(key, None)
            outcome.pruned.append(key)
            outcome.events.append(Event(status.EVENT_CHILD_PRUNED,
                                        f"Deleted {key[0]} {key[1]}: no longer rendered"))


def _observe(tcclog: TccLog, live: Mapping[ChildKey, Mapping[str, Any]], *,
             redis_master: str | None, prometheus_crds_present: bool
             ) -> status.ObservedChildren:
    """Everything status is computed from (pure)."""
    backend = names(tcclog).backend
    backup, last_successful_backup = status_ops.backup_health(tcclog, live)
    monitoring = status_ops.monitoring_health(
        tcclog, prometheus_crds_present=prometheus_crds_present)
    return status.ObservedChildren(
        deployment=live.get(("Deployment", backend)),
        hpa=live.get(("HorizontalPodAutoscaler", backend)),
        extra=status_data.data_tier_health(tcclog, live, redis_master=redis_master),
        side=tuple(side for side in (backup, monitoring) if side is not None),
        last_successful_backup=last_successful_backup,
    )


def _sync_patroni(kube: Kube, tcclog: TccLog, outcome: Outcome) -> None:
    synced = patroni_dcs.sync_dynamic_config(kube, tcclog)
    outcome.patroni_config_synced = synced != "pending"
    if synced == "updated":
        outcome.events.append(Event(
            status.EVENT_PATRONI_CONFIG_UPDATED,
            "Patroni's dynamic configuration now follows spec.postgres "
            "(synchronousMode, parameters)"))


def _events(found: Sequence[tuple[str, str, str]]) -> list[Event]:
    """(type, reason, message) triples from the pure status modules as Events."""
    return [Event(reason, message, warning=kind == "Warning") for kind, reason, message in found]


def _generated_secrets(kube: Kube, tcclog: TccLog,
                       children: Mapping[ChildKey, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The generated Secrets as they are in the cluster.

    The watch may not have delivered a Secret we created a moment ago; treating it as
    absent would generate new credentials and overwrite the live ones. So a Secret
    missing from the watch is read from the API (a read error aborts the reconcile).
    """
    found = []
    for name in required_secrets(tcclog):
        secret = children.get(("Secret", name)) or kube.get(
            "Secret", tcclog.metadata.namespace or "", name)
        if secret is not None:
            found.append(secret)
    return found


def _change(desired: Mapping[str, Any], current: Mapping[str, Any] | None) -> tuple[str, ChildKey]:
    """How an apply changed a child: Created, Restored (edited by hand) or Updated."""
    key = child_key(desired)
    if current is None:
        return "Created", key
    live_hash = current.get("metadata", {}).get("annotations", {}).get(drift.RENDER_HASH)
    if live_hash == desired["metadata"]["annotations"][drift.RENDER_HASH]:
        # Same render as last time, yet different: someone changed our fields.
        return "Restored", key
    return "Updated", key


def _apply_events(changes: list[tuple[str, ChildKey]]) -> list[Event]:
    """One Event per kind of change and reconcile, not one per object: describe stays readable
    and a thousand TccLogs do not flood the API server with Events."""
    events = []
    for verb in ("Created", "Updated", "Restored"):
        objects = [f"{kind} {name}" for change, (kind, name) in changes if change == verb]
        if objects:
            reason = status.EVENT_CHILD_RESTORED if verb == "Restored" else status.EVENT_APPLIED
            suffix = " (changed outside the operator)" if verb == "Restored" else ""
            events.append(Event(reason, f"{verb} {', '.join(objects)}{suffix}"))
    return events


def merge_observed(watched: Mapping[ChildKey, Mapping[str, Any]],
                   applied: Mapping[ChildKey, Mapping[str, Any]]
                   ) -> dict[ChildKey, Mapping[str, Any]]:
    """The freshest known version of each child: the watch's, or our own apply's answer
    when the watch has not caught up with it yet (a re-apply would be a wasted write)."""
    merged = dict(watched)
    for key, obj in applied.items():
        seen = watched.get(key)
        if seen is None or revision(obj) > revision(seen):
            merged[key] = obj
    return merged


def revision(obj: Mapping[str, Any]) -> int:
    """How recent this version of an object is, comparable between versions of it."""
    # resourceVersion is opaque by contract; on every etcd-backed API server it is the
    # etcd revision, an increasing integer. Anything else counts as oldest.
    try:
        return int(obj.get("metadata", {}).get("resourceVersion", ""))
    except ValueError:
        return -1
