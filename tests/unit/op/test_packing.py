"""packing: the form live objects and renders are kept in, in memory."""

from __future__ import annotations

import copy
import json
import zlib
from typing import Any

from tcclog_operator import drift, packing
from tcclog_operator.models import TccLog
from tcclog_operator.render import RenderSettings, fill_secret_values, render


def _live_children(name: str, namespace: str) -> list[dict[str, Any]]:
    """The children of a TccLog other than the sample, as the API server returns them."""
    tcclog = TccLog.from_body({
        "apiVersion": "tcclog.com/v1alpha1", "kind": "TccLog",
        "metadata": {"name": name, "namespace": namespace, "uid": "3f1c-live", "generation": 4},
        "spec": {"version": "0.2.0", "backend": {"replicas": 3}}})
    children: list[dict[str, Any]] = []
    for obj in render(tcclog, RenderSettings(), secret_values=fill_secret_values(tcclog, {})):
        live = copy.deepcopy(drift.stamp(obj))
        live["metadata"].update(uid=f"uid-{len(children)}", resourceVersion="9817",
                                managedFields=[{"manager": "tcclog-operator", "fieldsV1": {}}])
        live["status"] = {"observedGeneration": 1}
        children.append(live)
    return children


def test_trimmed_drops_managed_fields_and_keeps_only_pod_metadata() -> None:
    live = _live_children("t", "ns")[0]
    kept = packing.trimmed(live)
    assert "managedFields" not in kept["metadata"]
    assert {k: v for k, v in kept.items() if k != "metadata"} == {
        k: v for k, v in live.items() if k != "metadata"}
    pod = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": []}, "status": {},
           "metadata": {"name": "p", "labels": {"role": "primary"}, "managedFields": []}}
    assert packing.trimmed(pod) == {"apiVersion": "v1", "kind": "Pod",
                                    "metadata": {"name": "p", "labels": {"role": "primary"}}}
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {}},
           "status": {"succeeded": 1}, "metadata": {"name": "j"}}
    assert packing.trimmed(job) == {"apiVersion": "batch/v1", "kind": "Job",
                                    "metadata": {"name": "j"}, "status": {"succeeded": 1}}


def test_packed_round_trips_and_the_dictionary_halves_the_size() -> None:
    children = _live_children("orders", "shop")
    packed = [packing.packed(obj) for obj in children]
    assert [packing.unpacked(data) for data in packed] == [packing.trimmed(o) for o in children]
    alone = sum(len(zlib.compress(json.dumps(packing.trimmed(o), separators=(",", ":"))
                                  .encode(), 1)) for o in children)
    assert sum(map(len, packed)) < alone * 0.6


def test_any_json_value_round_trips() -> None:
    value = [{"kind": "ConfigMap", "data": {"ü": "✓"}}, 3, None, "x"]
    assert packing.unpack_json(packing.pack_json(value)) == value
