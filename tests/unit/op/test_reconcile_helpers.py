"""Pure helpers of reconcile: freshest view of children, aggregated Events."""

from __future__ import annotations

from tcclog_operator import drift
from tcclog_operator.reconcile import _apply_events, _change, merge_observed


def _obj(kind: str, name: str, rv: str, **annotations: str) -> dict:
    return {"kind": kind, "metadata": {"name": name, "resourceVersion": rv,
                                       "annotations": annotations}}


def test_merge_prefers_the_newer_revision_and_fills_gaps_of_the_watch() -> None:
    watched = {("Service", "a"): _obj("Service", "a", "10"),
               ("Secret", "s"): _obj("Secret", "s", "30")}
    applied = {("Service", "a"): _obj("Service", "a", "12"),   # watch lags: ours is newer
               ("Secret", "s"): _obj("Secret", "s", "25"),     # watch caught up: keep it
               ("ConfigMap", "c"): _obj("ConfigMap", "c", "11")}  # not watched yet
    merged = merge_observed(watched, applied)
    assert merged[("Service", "a")]["metadata"]["resourceVersion"] == "12"
    assert merged[("Secret", "s")]["metadata"]["resourceVersion"] == "30"
    assert merged[("ConfigMap", "c")] is applied[("ConfigMap", "c")]


def test_unparseable_revision_counts_as_oldest() -> None:
    watched = {("Service", "a"): _obj("Service", "a", "7")}
    assert merge_observed(watched, {("Service", "a"): _obj("Service", "a", "x")}) == watched


def test_changes_are_classified_and_aggregated_into_one_event_per_verb() -> None:
    desired = drift.stamp({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"a": 1}})
    same_hash = {"metadata": {"annotations": dict(desired["metadata"]["annotations"])}}
    old_hash = {"metadata": {"annotations": {drift.RENDER_HASH: "old"}}}
    assert _change(desired, None) == ("Created", ("Deployment", "d"))
    assert _change(desired, same_hash) == ("Restored", ("Deployment", "d"))
    assert _change(desired, old_hash) == ("Updated", ("Deployment", "d"))

    events = _apply_events([("Created", ("Secret", "s")), ("Created", ("Service", "v")),
                            ("Restored", ("Deployment", "d"))])
    assert [(e.reason, e.message) for e in events] == [
        ("ChildrenApplied", "Created Secret s, Service v"),
        ("ChildRestored", "Restored Deployment d (changed outside the operator)"),
    ]
