"""Pure status of the data tier: PostgreSQL (Patroni) and Redis + Sentinel.

Inputs are the children as the watches saw them: the StatefulSets, and the member pods,
on which Patroni writes its view of each member (the `role` label and a `status`
annotation with role, state and WAL position). Output: `ComponentHealth` entries for
`status.ObservedChildren.extra`, plus the Events a change of primary deserves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from .models import ComponentStatus, TccLog, TccLogStatus
from .render.meta import ROLE_LABEL, ROLE_PRIMARY, ROLE_REPLICA, names
from .render.patroni import MAXIMUM_LAG_ON_FAILOVER
from .status import ComponentHealth, State

EVENT_POSTGRES_FAILOVER = "PostgresPrimaryChanged"
EVENT_REDIS_FAILOVER = "RedisMasterChanged"

Obj = Mapping[str, Any]


def _sts_view(sts: Obj | None, desired: int, what: str) -> tuple[State, str, int, int]:
    """(state, message, ready, updated) of a StatefulSet we rendered with `desired` pods."""
    if sts is None:
        return "progressing", f"{what} StatefulSet not created yet", 0, 0
    status = sts.get("status") or {}
    ready = status.get("readyReplicas", 0)
    updated = status.get("updatedReplicas", 0)
    total = status.get("replicas", 0)
    seen = status.get("observedGeneration", 0) >= sts["metadata"].get("generation", 0)
    if not seen:
        return "progressing", f"{what}: controller has not seen the latest spec yet", ready, updated
    if updated < desired or total > desired:
        return "progressing", f"{what}: rolling out, {updated}/{desired} updated", ready, updated
    if ready < desired:
        return "progressing", f"{what}: waiting for pods, {ready}/{desired} ready", ready, updated
    return "ready", f"{what}: {ready}/{desired} ready", ready, updated


def _pods(children: Mapping[tuple[str, str], Obj], statefulset: str) -> list[Obj]:
    prefix = f"{statefulset}-"
    return sorted(
        (pod for (kind, name), pod in children.items()
         if kind == "Pod" and name.startswith(prefix) and name[len(prefix):].isdigit()),
        key=lambda pod: int(pod["metadata"]["name"][len(prefix):]),
    )


def _patroni_status(pod: Obj) -> dict[str, Any]:
    raw = (pod["metadata"].get("annotations") or {}).get("status", "")
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def postgres_health(tcclog: TccLog, children: Mapping[tuple[str, str], Obj]) -> ComponentHealth:
    """Ready instances from the StatefulSet; primary and replication from Patroni's pods."""
    child = names(tcclog)
    desired = tcclog.spec.postgres.instances
    state, message, ready, updated = _sts_view(
        children.get(("StatefulSet", child.postgres)), desired, "instances")
    pods = _pods(children, child.postgres)
    labelled = [p for p in pods
                if (p["metadata"].get("labels") or {}).get(ROLE_LABEL) == ROLE_PRIMARY]
    replicas = [p for p in pods
                if (p["metadata"].get("labels") or {}).get(ROLE_LABEL) == ROLE_REPLICA]
    primary = _current_primary(labelled, tcclog)
    name = primary["metadata"]["name"] if primary is not None else None
    notes = [message]
    if primary is not None:
        notes.append(f"primary {name}")
        notes.extend(_lag_notes(replicas, _patroni_status(primary).get("xlog_location")))
    else:
        notes.append("no primary elected (yet)")
    if desired > 1 and primary is not None:
        streaming = sum(1 for p in replicas
                        if _patroni_status(p).get("replication_state") == "streaming")
        notes.append(f"{streaming}/{desired - 1} replicas streaming")
    status = ComponentStatus(
        ready=state == "ready",
        summary=f"{ready}/{desired}",
        message="; ".join(notes),
        desired_replicas=desired,
        ready_replicas=ready,
        updated_replicas=updated,
        primary=name,
    )
    return ComponentHealth("postgres", state, status)


def _current_primary(labelled: list[Obj], tcclog: TccLog) -> Obj | None:
    """The pod Patroni labelled primary. A crashed leader keeps its label until its
    container restarts, so two pods may carry it for a while: the promoted one is on the
    newer timeline; without timelines the previously reported primary stays."""
    if len(labelled) <= 1:
        return labelled[0] if labelled else None
    timelines = [t for t in (_patroni_status(p).get("timeline") for p in labelled)
                 if isinstance(t, int)]
    if len(timelines) == len(labelled) and len(set(timelines)) == len(timelines):
        return labelled[timelines.index(max(timelines))]
    previous = tcclog.status.components.postgres if tcclog.status else None
    return next((p for p in labelled
                 if previous is not None and p["metadata"]["name"] == previous.primary), None)


def _lag_notes(replicas: list[Obj], leader_lsn: Any) -> list[str]:
    """Only replicas too far behind to be promoted are named (few words, little churn)."""
    if not isinstance(leader_lsn, int):
        return []
    notes = []
    for pod in replicas:
        lsn = _patroni_status(pod).get("xlog_location")
        if isinstance(lsn, int) and leader_lsn - lsn > MAXIMUM_LAG_ON_FAILOVER:
            lag_mib = (leader_lsn - lsn) // (1024 * 1024)
            notes.append(f"{pod['metadata']['name']} lags {lag_mib} MiB (not promotable)")
    return notes


def redis_health(tcclog: TccLog, children: Mapping[tuple[str, str], Obj],
                 master: str | None = None) -> ComponentHealth:
    """Redis servers and Sentinels from their StatefulSets; the master as Sentinel reports it
    (None: no Sentinel answered the operator, see sentinel.py)."""
    child = names(tcclog)
    spec = tcclog.spec.redis
    redis_state, redis_msg, ready, updated = _sts_view(
        children.get(("StatefulSet", child.redis)), spec.replicas, "redis")
    sentinel_state, sentinel_msg, sentinels_ready, _ = _sts_view(
        children.get(("StatefulSet", child.sentinel)), spec.sentinels, "sentinels")
    state: State = "ready" if redis_state == sentinel_state == "ready" else "progressing"
    where = f"master {master}" if master else "master unknown (no Sentinel answered the operator)"
    status = ComponentStatus(
        ready=state == "ready",
        summary=f"{ready}/{spec.replicas}+{sentinels_ready}/{spec.sentinels}",
        message=f"{redis_msg}; {sentinel_msg}; {where}",
        desired_replicas=spec.replicas,
        ready_replicas=ready,
        updated_replicas=updated,
        master=master,
    )
    return ComponentHealth("redis", state, status)


def data_tier_health(
    tcclog: TccLog, children: Mapping[tuple[str, str], Obj], *, redis_master: str | None = None
) -> tuple[ComponentHealth, ...]:
    return postgres_health(tcclog, children), redis_health(tcclog, children, redis_master)


Leaders = dict[str, str]  # component ("postgres", "redis") -> last known primary/master


def leaders_of(status: TccLogStatus | None) -> Leaders:
    """The primary and master a status names (where it names them)."""
    found: Leaders = {}
    if status is not None:
        if status.components.postgres and status.components.postgres.primary:
            found["postgres"] = status.components.postgres.primary
        if status.components.redis and status.components.redis.master:
            found["redis"] = status.components.redis.master
    return found


def leader_events(known: Mapping[str, str], new: TccLogStatus
                  ) -> tuple[list[tuple[Literal["Normal", "Warning"], str, str]], Leaders]:
    """Events when Patroni moved the primary, or Sentinel the master, to another pod;
    and the leaders now known. `known` outlives statuses without a leader: a failover
    passes through a moment with none (old one gone, new one not yet promoted), and the
    move is still from the old pod to the new one."""
    events: list[tuple[Literal["Normal", "Warning"], str, str]] = []
    now = {**known, **leaders_of(new)}
    for component, reason, what in (("postgres", EVENT_POSTGRES_FAILOVER, "PostgreSQL primary"),
                                    ("redis", EVENT_REDIS_FAILOVER, "Redis master")):
        before, after = known.get(component), now.get(component)
        if before and after and before != after:
            events.append(("Warning", reason, f"{what} moved from {before} to {after}"))
    return events, now
