"""Pure status: observed children -> TccLog status (conditions, components, endpoints).

The reconcile reads the children back (plain dicts as the API returns them), calls
`compute_status`, and writes `status_patch(old, new)` through the status subresource only
when it is non-empty, so an idle reconcile writes nothing. Conditions are metav1.Condition
shaped; `lastTransitionTime` moves only when a condition's status flips.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError

from .models import Components, ComponentStatus, Condition, Endpoints, TccLog, TccLogStatus

# Child names come from their one home; render.meta imports no client, so this stays pure.
from .render.meta import endpoints as rendered_endpoints
from .render.meta import names

# Condition types.
READY, PROGRESSING, DEGRADED = "Ready", "Progressing", "Degraded"

# Condition reasons (CamelCase, stable: tests and dashboards match on them).
REASON_ALL_COMPONENTS_READY = "AllComponentsReady"
REASON_COMPONENTS_NOT_READY = "ComponentsNotReady"
REASON_RECONCILING = "Reconciling"
REASON_RECONCILE_COMPLETE = "ReconcileComplete"
REASON_APPLY_FAILED = "ApplyFailed"
REASON_COMPONENT_DEGRADED = "ComponentDegraded"
REASON_AS_EXPECTED = "AsExpected"

# Event reasons (CamelCase), posted on the TccLog for `kubectl describe`.
REASON_CREATED = "Created"  # a child was created
REASON_UPDATED = "Updated"  # a child was changed because the render changed
REASON_RESTORED = "Restored"  # a child was put back after an edit or delete from outside
REASON_PRUNED = "Pruned"  # a child no longer rendered was deleted
EVENT_APPLIED = "ChildrenApplied"
EVENT_APPLY_FAILED = "ApplyFailed"
EVENT_INVALID_SPEC = "InvalidSpec"
EVENT_SECRET_GENERATED = "SecretGenerated"
EVENT_CHILD_RESTORED = "ChildRestored"
EVENT_CHILD_PRUNED = "ChildPruned"
EVENT_UPGRADING = "Upgrading"
EVENT_READY = "Ready"
EVENT_NOT_READY = "NotReady"
EVENT_DEGRADED = "Degraded"
EVENT_RECOVERED = "Recovered"
EVENT_PATRONI_CONFIG_UPDATED = "PatroniConfigUpdated"
EVENT_STORAGE_GROWN = "StorageGrown"

State = Literal["ready", "progressing", "degraded"]
ConditionStatus = Literal["True", "False", "Unknown"]


@dataclass(frozen=True)
class ComponentHealth:
    """One component's verdict: its summary for status plus how it counts overall."""

    name: str
    state: State
    status: ComponentStatus


@dataclass(frozen=True)
class SideHealth:
    """A component reported by its own condition that does not count toward Ready:
    a failed backup or missing Prometheus CRDs need attention, yet the app serves."""

    name: str  # key in status.components
    condition: str  # condition type, e.g. BackupHealthy
    status: ConditionStatus
    reason: str
    component: ComponentStatus


@dataclass(frozen=True)
class ObservedChildren:
    """What the reconcile read back. Objects are full API dicts; None means not found."""

    deployment: Mapping[str, Any] | None = None
    hpa: Mapping[str, Any] | None = None
    #: Health of components evaluated elsewhere (postgres, redis, ... in later issues).
    extra: tuple[ComponentHealth, ...] = field(default_factory=tuple)
    #: Components with their own condition (backup, monitoring), outside Ready.
    side: tuple[SideHealth, ...] = field(default_factory=tuple)
    last_successful_backup: str | None = None


def _conditions(obj: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    items = ((obj or {}).get("status") or {}).get("conditions") or []
    return {c.get("type", ""): c for c in items}


# HPA reasons that mean "no metrics", which on a cluster without metrics-server is normal.
_NO_METRICS_REASONS = {
    "FailedGetResourceMetric",
    "FailedGetContainerResourceMetric",
    "FailedComputeMetricsReplicas",
    "FailedGetPodsMetric",
    "FailedGetExternalMetric",
}


def _hpa_view(hpa: Mapping[str, Any] | None) -> tuple[int | None, bool | None, str]:
    """(desiredReplicas, metrics available?, note) of an HPA."""
    if hpa is None:
        return None, None, ""
    desired = (hpa.get("status") or {}).get("desiredReplicas")
    scaling = _conditions(hpa).get("ScalingActive")
    if (
        scaling
        and scaling.get("status") == "False"
        and scaling.get("reason") in _NO_METRICS_REASONS
    ):
        note = "HPA metrics unavailable (is metrics-server installed?); replicas stay as they are"
        return desired, False, note
    return desired, True if scaling else None, ""


def backend_health(
    tcclog: TccLog, deployment: Mapping[str, Any] | None, hpa: Mapping[str, Any] | None
) -> ComponentHealth:
    """Backend verdict from its Deployment and (when autoscaling) its HPA."""
    spec = tcclog.spec.backend
    hpa_desired, metrics_ok, hpa_note = _hpa_view(hpa if spec.autoscaling.enabled else None)
    if deployment is None:
        status = ComponentStatus(summary="0/?", message="Deployment not created yet")
        return ComponentHealth("backend", "progressing", status)

    dep_status = deployment.get("status") or {}
    desired = (deployment.get("spec") or {}).get("replicas", spec.replicas)
    ready = dep_status.get("readyReplicas", 0)
    updated = dep_status.get("updatedReplicas", 0)
    available = dep_status.get("availableReplicas", 0)
    total = dep_status.get("replicas", 0)
    seen = dep_status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
    conditions = _conditions(deployment)

    problems = []
    progressing = conditions.get("Progressing", {})
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        problems.append(f"rollout stuck: {progressing.get('message', '')}".strip())
    failure = conditions.get("ReplicaFailure", {})
    if failure.get("status") == "True":
        problems.append(f"cannot create pods: {failure.get('message', '')}".strip())
    if spec.autoscaling.enabled and hpa is None:
        waiting = "HorizontalPodAutoscaler not created yet"
    elif not seen:
        waiting = "Deployment controller has not seen the latest spec yet"
    elif updated < desired or total > updated:
        waiting = f"rolling out: {updated}/{desired} pods updated"
    elif available < desired:
        waiting = f"waiting for pods: {available}/{desired} available"
    else:
        waiting = ""

    state: State = "degraded" if problems else ("progressing" if waiting else "ready")
    head = [*problems, waiting] if waiting else (problems or [f"{ready}/{desired} pods ready"])
    message = "; ".join([*head, *([hpa_note] if hpa_note else [])])
    status = ComponentStatus(
        ready=state == "ready",
        summary=f"{ready}/{desired}",
        message=message,
        desired_replicas=hpa_desired if hpa_desired is not None else desired,
        ready_replicas=ready,
        updated_replicas=updated,
        metrics_available=metrics_ok,
    )
    return ComponentHealth("backend", state, status)


def _condition(
    kind: str,
    true: bool | ConditionStatus,
    reason: str,
    message: str,
    generation: int | None,
    previous: Mapping[str, Condition],
    now: str,
) -> Condition:
    status: ConditionStatus = true if isinstance(true, str) else ("True" if true else "False")
    old = previous.get(kind)
    since = old.last_transition_time if old is not None and old.status == status else now
    return Condition(
        type=kind,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=since,
        observed_generation=generation,
    )


def compute_status(
    tcclog: TccLog,
    observed: ObservedChildren,
    *,
    endpoints: Endpoints,
    now: datetime,
    apply_error: str | None = None,
) -> TccLogStatus:
    """The whole new status. `tcclog.status` (if any) supplies the previous conditions."""
    generation = tcclog.metadata.generation
    healths = [backend_health(tcclog, observed.deployment, observed.hpa), *observed.extra]
    degraded = [h for h in healths if h.state == "degraded"]
    waiting = [h for h in healths if h.state == "progressing"]

    def describe(group: list[ComponentHealth]) -> str:
        return "; ".join(f"{h.name}: {h.status.message}" for h in group)

    if apply_error:
        degraded_reason, degraded_msg = REASON_APPLY_FAILED, apply_error
    elif degraded:
        degraded_reason, degraded_msg = REASON_COMPONENT_DEGRADED, describe(degraded)
    else:
        degraded_reason, degraded_msg = REASON_AS_EXPECTED, "No problems found"
    is_degraded = bool(apply_error or degraded)
    is_progressing = bool(waiting) and not apply_error
    is_ready = not is_degraded and not waiting

    previous = {c.type: c for c in (tcclog.status.conditions if tcclog.status else [])}
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    summary = ", ".join(f"{h.name} {h.status.summary}" for h in healths)
    conditions = [
        _condition(
            READY,
            is_ready,
            REASON_ALL_COMPONENTS_READY if is_ready else REASON_COMPONENTS_NOT_READY,
            f"All components ready ({summary})"
            if is_ready
            else describe([*degraded, *waiting]) or degraded_msg,
            generation,
            previous,
            stamp,
        ),
        _condition(
            PROGRESSING,
            is_progressing,
            REASON_RECONCILING if is_progressing else REASON_RECONCILE_COMPLETE,
            describe(waiting) if is_progressing else "Nothing in flight",
            generation,
            previous,
            stamp,
        ),
        _condition(
            DEGRADED, is_degraded, degraded_reason, degraded_msg, generation, previous, stamp
        ),
        *(_condition(side.condition, side.status, side.reason, side.component.message,
                     generation, previous, stamp) for side in observed.side),
    ]
    return TccLogStatus(
        observed_generation=generation,
        conditions=conditions,
        components=Components(**{h.name: h.status for h in healths},
                              **{side.name: side.component for side in observed.side}),
        endpoints=endpoints,
        last_successful_backup=observed.last_successful_backup,
    )


def _without_transition_times(status: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(status)
    out["conditions"] = [
        {k: v for k, v in c.items() if k != "lastTransitionTime"}
        for c in status.get("conditions") or []
    ]
    return out


def merge_patch(old: Any, new: Any) -> Any:
    """RFC 7386 JSON merge patch turning `old` into `new` ({} when equal)."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return new
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            sub = merge_patch(old[key], value)
            if sub != {} or not isinstance(value, Mapping):
                patch[key] = sub
    return patch


def status_patch(old: Mapping[str, Any] | TccLogStatus | None, new: TccLogStatus) -> dict[str, Any]:
    """Merge patch for `.status`; {} means "write nothing". Explicit nulls remove fields."""
    before = old.to_wire() if isinstance(old, TccLogStatus) else dict(old or {})
    return merge_patch(before, new.to_wire())


def status_changed(old: Mapping[str, Any] | TccLogStatus | None, new: TccLogStatus) -> bool:
    """Whether the status differs in substance (lastTransitionTime churn alone does not count)."""
    before = old.to_wire() if isinstance(old, TccLogStatus) else dict(old or {})
    return _without_transition_times(before) != _without_transition_times(new.to_wire())


def transition_events(
    old: TccLogStatus | None, new: TccLogStatus
) -> list[tuple[Literal["Normal", "Warning"], str, str]]:
    """(type, reason, message) Events for condition flips: posted once per transition."""
    before = {c.type: c.status for c in (old.conditions if old else [])}
    after = {c.type: c for c in new.conditions}
    events: list[tuple[Literal["Normal", "Warning"], str, str]] = []
    ready, degraded = after[READY], after[DEGRADED]
    if degraded.status == "True" and before.get(DEGRADED) != "True":
        events.append(("Warning", EVENT_DEGRADED, degraded.message))
    if degraded.status == "False" and before.get(DEGRADED) == "True":
        events.append(("Normal", EVENT_RECOVERED, "No longer degraded"))
    if ready.status == "True" and before.get(READY) != "True":
        events.append(("Normal", EVENT_READY, ready.message))
    if ready.status == "False" and before.get(READY) == "True":
        events.append(("Warning", EVENT_NOT_READY, ready.message))
    return events


# ---------------------------------------------------------------- dict-level entry points
# What reconcile.py calls: children keyed by (kind, name), statuses as plain dicts.


def _parse_status(raw: Mapping[str, Any] | None) -> TccLogStatus | None:
    try:
        return TccLogStatus.model_validate(dict(raw)) if raw else None
    except ValidationError:
        return None  # a hand-written or foreign status: start the conditions afresh


def compute(
    tcclog: TccLog,
    children: Mapping[tuple[str, str], Mapping[str, Any]],
    old_status: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
    apply_error: str | None = None,
) -> dict[str, Any]:
    """New status (wire form) from the live children; `old_status` keeps transition times."""
    backend = names(tcclog).backend
    observed = ObservedChildren(
        deployment=children.get(("Deployment", backend)),
        hpa=children.get(("HorizontalPodAutoscaler", backend)),
    )
    previous = tcclog.model_copy(update={"status": _parse_status(old_status)})
    new = compute_status(
        previous,
        observed,
        endpoints=rendered_endpoints(tcclog),
        now=now or datetime.now(UTC),
        apply_error=apply_error,
    )
    return new.to_wire()


def changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Dict form of status_changed: lastTransitionTime churn alone is no change."""
    return _without_transition_times(dict(old or {})) != _without_transition_times(dict(new))
