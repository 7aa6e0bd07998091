"""Status as a pure function of the observed children."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tcclog_operator import status
from tcclog_operator.models import TccLog, TccLogStatus
from tcclog_operator.render import endpoints
from tcclog_operator.status import ObservedChildren, compute_status, status_changed

from .conftest import make

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)


def deployment(
    replicas: int = 2,
    ready: int = 2,
    updated: int | None = None,
    generation: int = 1,
    observed: int = 1,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    updated = ready if updated is None else updated
    return {
        "metadata": {"name": "demo-backend", "generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "replicas": max(replicas, updated),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "updatedReplicas": updated,
            "conditions": conditions or [],
        },
    }


def hpa(
    scaling_active: str = "True", reason: str = "ValidMetricFound", desired: int = 3
) -> dict[str, Any]:
    return {
        "metadata": {"name": "demo-backend"},
        "status": {
            "desiredReplicas": desired,
            "conditions": [
                {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"},
                {
                    "type": "ScalingActive",
                    "status": scaling_active,
                    "reason": reason,
                    "message": "the HPA was unable to compute the replica count",
                },
            ],
        },
    }


def run(tcclog: TccLog, now: datetime = T0, **observed: Any) -> TccLogStatus:
    return compute_status(
        tcclog, ObservedChildren(**observed), endpoints=endpoints(tcclog), now=now
    )


def conditions(result: TccLogStatus) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in result.conditions}


def test_ready_when_the_deployment_is_available() -> None:
    tcclog = make({}, generation=4)
    result = run(tcclog, deployment=deployment())
    assert conditions(result) == {
        "Ready": ("True", "AllComponentsReady"),
        "Progressing": ("False", "ReconcileComplete"),
        "Degraded": ("False", "AsExpected"),
    }
    assert result.observed_generation == 4
    assert all(c.observed_generation == 4 for c in result.conditions)
    backend = result.components.backend
    assert backend is not None and backend.ready and backend.summary == "2/2"
    assert result.endpoints.api == "http://demo-backend.tcc.svc"


def test_missing_deployment_is_progressing() -> None:
    result = run(make({}))
    assert conditions(result)["Ready"] == ("False", "ComponentsNotReady")
    assert conditions(result)["Progressing"] == ("True", "Reconciling")
    assert conditions(result)["Degraded"][0] == "False"


def test_rollout_in_flight_is_progressing() -> None:
    result = run(make({}), deployment=deployment(replicas=3, ready=3, updated=1))
    assert conditions(result)["Progressing"][0] == "True"
    assert "rolling out: 1/3" in result.conditions[1].message


def test_unseen_generation_is_progressing() -> None:
    result = run(make({}), deployment=deployment(generation=2, observed=1))
    assert conditions(result)["Ready"][0] == "False"
    assert "not seen the latest spec" in (result.components.backend.message or "")


def test_stuck_rollout_is_degraded() -> None:
    stuck = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet has timed out progressing.",
        }
    ]
    result = run(make({}), deployment=deployment(ready=1, conditions=stuck))
    assert conditions(result)["Degraded"] == ("True", "ComponentDegraded")
    assert conditions(result)["Ready"][0] == "False"
    assert "rollout stuck" in result.conditions[2].message


def test_refused_pods_are_degraded() -> None:
    failure = [
        {
            "type": "ReplicaFailure",
            "status": "True",
            "reason": "FailedCreate",
            "message": "pods is forbidden: violates PodSecurity",
        }
    ]
    result = run(make({}), deployment=deployment(ready=0, conditions=failure))
    assert conditions(result)["Degraded"][0] == "True"
    assert "PodSecurity" in result.conditions[2].message


def test_hpa_without_metrics_is_not_degraded() -> None:
    tcclog = make({"backend": {"autoscaling": {"enabled": True}}})
    result = run(
        tcclog,
        deployment=deployment(),
        hpa=hpa(scaling_active="False", reason="FailedGetResourceMetric"),
    )
    assert conditions(result)["Ready"][0] == "True"
    assert conditions(result)["Degraded"][0] == "False"
    backend = result.components.backend
    assert backend is not None and backend.metrics_available is False
    assert "metrics unavailable" in backend.message


def test_hpa_missing_while_autoscaling_is_progressing() -> None:
    tcclog = make({"backend": {"autoscaling": {"enabled": True}}})
    result = run(tcclog, deployment=deployment())
    assert conditions(result)["Progressing"][0] == "True"


def test_hpa_desired_replicas_are_reported() -> None:
    tcclog = make({"backend": {"autoscaling": {"enabled": True}}})
    backend = run(tcclog, deployment=deployment(), hpa=hpa(desired=5)).components.backend
    assert backend is not None
    assert backend.desired_replicas == 5 and backend.metrics_available is True


def test_apply_error_is_degraded() -> None:
    tcclog = make({})
    result = compute_status(
        tcclog,
        ObservedChildren(deployment=deployment()),
        endpoints=endpoints(tcclog),
        now=T0,
        apply_error="Deployment demo-backend: forbidden",
    )
    assert conditions(result)["Degraded"] == ("True", "ApplyFailed")


def test_transition_time_kept_while_status_unchanged() -> None:
    first = run(make({}), deployment=deployment())
    again = run(make({}).model_copy(update={"status": first}), now=T1, deployment=deployment())
    assert [c.last_transition_time for c in again.conditions] == ["2026-01-01T12:00:00Z"] * 3
    assert not status_changed(first, again)
    assert status.status_patch(first, again) == {}


def test_transition_time_moves_when_status_flips() -> None:
    first = run(make({}), deployment=deployment())
    later = run(
        make({}).model_copy(update={"status": first}), now=T1, deployment=deployment(ready=1)
    )
    ready = next(c for c in later.conditions if c.type == "Ready")
    assert ready.status == "False" and ready.last_transition_time == "2026-01-01T12:05:00Z"
    assert status_changed(first, later)


def test_changed_ignores_transition_time_churn() -> None:
    a = run(make({}), deployment=deployment())
    b = run(make({}), now=T1, deployment=deployment())  # no previous: new times
    assert not status.changed(a.to_wire(), b.to_wire())
    assert status.changed(None, b.to_wire())


def test_merge_patch_nulls_removed_fields() -> None:
    old = {"components": {"backend": {"ready": True, "metricsAvailable": False}}, "x": 1}
    new = {"components": {"backend": {"ready": True}}}
    assert status.merge_patch(old, new) == {
        "components": {"backend": {"metricsAvailable": None}},
        "x": None,
    }


def test_transition_events() -> None:
    ready = run(make({}), deployment=deployment())
    assert [e[1] for e in status.transition_events(None, ready)] == [status.EVENT_READY]
    stuck = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
    degraded = run(make({}), deployment=deployment(ready=1, conditions=stuck))
    events = status.transition_events(ready, degraded)
    assert {(kind, reason) for kind, reason, _ in events} == {
        ("Warning", status.EVENT_DEGRADED),
        ("Warning", status.EVENT_NOT_READY),
    }
    assert status.transition_events(ready, ready) == []


def test_dict_entry_point_for_reconcile() -> None:
    tcclog = make({}, generation=2)
    children = {("Deployment", "demo-backend"): deployment()}
    first = status.compute(tcclog, children, None, now=T0)
    second = status.compute(tcclog, children, first, now=T1)
    assert first == second  # same observation: same status, times kept
    assert first["conditions"][0]["type"] == "Ready"
    assert first["observedGeneration"] == 2


def test_reasons_are_camel_case() -> None:
    reasons = [
        value
        for name, value in vars(status).items()
        if name.startswith(("REASON_", "EVENT_")) and isinstance(value, str)
    ]
    assert reasons and all(r[0].isupper() and r.isalnum() for r in reasons)
