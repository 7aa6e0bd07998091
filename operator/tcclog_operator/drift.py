"""Pure: does a child in the cluster still match what we rendered?

A reconcile must make no write when nothing changed, yet restore any hand edit.
Two checks give both:

* every rendered object carries a hash of itself (`tcclog.com/render-hash`); when the
  render changes (a new spec, a new operator build) the hash differs and we apply, and
  server-side apply then also removes fields we stopped rendering;
* every field we render must still hold our value in the live object (a subset test:
  the API server adds defaults and status, which we ignore); a `kubectl edit` of one of
  our fields fails the test and we apply again.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

RENDER_HASH = "tcclog.com/render-hash"


def normalize(desired: Mapping[str, Any]) -> dict[str, Any]:
    """The form the API server returns, so the subset test compares like with like."""
    obj = copy.deepcopy(dict(desired))
    if obj.get("kind") == "Secret" and "stringData" in obj:
        # The API server folds stringData into base64 `data` and never returns it.
        data = dict(obj.get("data") or {})
        for key, value in obj.pop("stringData").items():
            data[key] = base64.b64encode(value.encode()).decode()
        obj["data"] = data
    return obj


def render_hash(desired: Mapping[str, Any]) -> str:
    canonical = json.dumps(normalize(desired), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def stamp(desired: Mapping[str, Any]) -> dict[str, Any]:
    """`desired` in API form with its render hash annotation, ready to apply."""
    obj = normalize(desired)
    metadata = obj.setdefault("metadata", {})
    metadata["annotations"] = {**metadata.get("annotations", {}), RENDER_HASH: render_hash(desired)}
    return obj


def is_subset(desired: Any, actual: Any) -> bool:
    """True when every field of `desired` holds the same value in `actual`.

    Written as plain loops, leaves first: an idle reconcile is mostly this function.
    """
    if isinstance(desired, _SCALARS):
        if isinstance(desired, bool) or isinstance(actual, bool):
            return desired is actual
        if isinstance(desired, int | float) and isinstance(actual, int | float):
            return float(desired) == float(actual)
        return bool(desired == actual)
    if isinstance(desired, dict | Mapping):
        if not isinstance(actual, dict | Mapping):
            return False
        for key, value in desired.items():
            if key not in actual or not is_subset(value, actual[key]):
                return False
        return True
    if isinstance(desired, list):
        if not isinstance(actual, list):
            return False
        if _named(desired) and _named(actual):
            # Lists merged by name (containers, env, ports, volumes): server-side apply
            # keeps items other managers added, so only our items must match.
            by_name = {item["name"]: item for item in actual}
            for item in desired:
                if item["name"] not in by_name or not is_subset(item, by_name[item["name"]]):
                    return False
            return True
        if len(desired) != len(actual):
            return False
        for wanted, found in zip(desired, actual, strict=True):  # noqa: SIM110 (a loop is faster)
            if not is_subset(wanted, found):
                return False
        return True
    return bool(desired == actual)


_SCALARS = (str, bool, int, float, type(None))


def _named(items: list[Any]) -> bool:
    for item in items:  # noqa: SIM110 (a loop is faster)
        if not isinstance(item, dict | Mapping) or "name" not in item:
            return False
    return True


def needs_apply(stamped: Mapping[str, Any], actual: Mapping[str, Any] | None) -> bool:
    """Apply when the child is missing, was rendered differently, or was edited by hand."""
    if actual is None:
        return True
    return not is_subset(stamped, actual)
