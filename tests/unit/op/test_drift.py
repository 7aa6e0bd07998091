"""drift: when does a live child need a server-side apply?"""

from __future__ import annotations

import base64
import copy

from tcclog_operator import drift

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "demo-backend", "namespace": "tcc", "labels": {"a": "b"}},
    "spec": {
        "replicas": 3,
        "template": {
            "spec": {
                "containers": [
                    {"name": "app", "image": "tcclog:0.1.0", "ports": [{"containerPort": 8000}]}
                ]
            }
        },
    },
}


def _live(stamped: dict) -> dict:
    """What the API server returns: our fields plus defaults, status and bookkeeping."""
    live = copy.deepcopy(stamped)
    live["metadata"].update(uid="u-1", resourceVersion="42", generation=1)
    live["spec"]["strategy"] = {"type": "RollingUpdate"}
    container = live["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["protocol"] = "TCP"
    container["terminationMessagePath"] = "/dev/termination-log"
    live["status"] = {"readyReplicas": 3}
    return live


def test_missing_child_needs_apply() -> None:
    assert drift.needs_apply(drift.stamp(DEPLOYMENT), None)


def test_unchanged_child_with_server_defaults_needs_no_apply() -> None:
    stamped = drift.stamp(DEPLOYMENT)
    assert not drift.needs_apply(stamped, _live(stamped))


def test_hand_edited_field_needs_apply() -> None:
    stamped = drift.stamp(DEPLOYMENT)
    live = _live(stamped)
    live["spec"]["replicas"] = 7
    assert drift.needs_apply(stamped, live)


def test_removed_label_needs_apply() -> None:
    stamped = drift.stamp(DEPLOYMENT)
    live = _live(stamped)
    del live["metadata"]["labels"]["a"]
    assert drift.needs_apply(stamped, live)


def test_changed_render_needs_apply_even_when_live_is_a_superset() -> None:
    """Dropping a field from the render changes the hash: the apply removes it live."""
    old = copy.deepcopy(DEPLOYMENT)
    old["metadata"]["labels"]["old"] = "x"
    live = _live(drift.stamp(old))
    assert drift.is_subset(DEPLOYMENT["spec"], live["spec"])
    assert drift.needs_apply(drift.stamp(DEPLOYMENT), live)


def test_hash_is_stable_and_content_sensitive() -> None:
    assert drift.render_hash(DEPLOYMENT) == drift.render_hash(copy.deepcopy(DEPLOYMENT))
    changed = copy.deepcopy(DEPLOYMENT)
    changed["spec"]["replicas"] = 4
    assert drift.render_hash(changed) != drift.render_hash(DEPLOYMENT)


def test_secret_string_data_compares_as_base64_data() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "tcc"},
        "stringData": {"k": "v@lue"},
    }
    stamped = drift.stamp(secret)
    assert "stringData" not in stamped
    assert stamped["data"] == {"k": base64.b64encode(b"v@lue").decode()}
    live = {**copy.deepcopy(stamped), "type": "Opaque"}
    assert not drift.needs_apply(stamped, live)


def test_list_length_and_scalar_types_matter() -> None:
    assert not drift.is_subset([1, 2], [1, 2, 3])
    assert drift.is_subset({"n": 1}, {"n": 1.0})
    assert not drift.is_subset({"flag": True}, {"flag": 1})
    assert not drift.is_subset({"x": "1"}, {"x": 1})


def test_items_merged_by_name_match_by_name_and_tolerate_foreign_items() -> None:
    """A sidecar added by another manager is not ours to remove; ours must still match."""
    stamped = drift.stamp(DEPLOYMENT)
    live = _live(stamped)
    containers = live["spec"]["template"]["spec"]["containers"]
    containers.insert(0, {"name": "sidecar", "image": "proxy:1"})
    assert not drift.needs_apply(stamped, live)
    containers[1]["image"] = "evil/miner:1"
    assert drift.needs_apply(stamped, live)
