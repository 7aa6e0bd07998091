"""Growing PostgreSQL volumes: `spec.postgres.storage.size` up (the CRD refuses down).

A StatefulSet's volumeClaimTemplates cannot be changed, so growth is the well-trodden
manual procedure, automated:

1. every existing claim of the StatefulSet asks for the new size (the volume's driver and
   the cluster's expand controller do the resize; the StorageClass must allow expansion);
2. the StatefulSet is deleted with `propagationPolicy: Orphan`: its pods keep running;
3. the reconcile applies the new StatefulSet, which adopts those pods and claims.

If a claim refuses the new size (no expansion for its class), nothing else happens:
the StatefulSet and its pods stay as they are and the error lands in Degraded.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .kube import Kube
from .render.quantity import canonical_quantity

Obj = Mapping[str, Any]
GONE_TIMEOUT_SECONDS = 30


def claim_size(statefulset: Obj) -> str | None:
    """Storage request of the StatefulSet's (first) claim template."""
    templates = (statefulset.get("spec") or {}).get("volumeClaimTemplates") or []
    if not templates:
        return None
    size = ((templates[0].get("spec") or {}).get("resources") or {}).get(
        "requests", {}).get("storage")
    return canonical_quantity(str(size)) if size is not None else None


def needs_growth(desired: Obj, live: Obj | None) -> bool:
    return live is not None and claim_size(live) not in (None, claim_size(desired))


def grow(kube: Kube, desired: Obj, live: Obj) -> list[str]:
    """Resize the claims of `live` to `desired`'s size, then orphan-delete `live`.
    Returns the claims resized. Raises ApiError when a claim refuses."""
    namespace, name = live["metadata"]["namespace"], live["metadata"]["name"]
    size = claim_size(desired)
    template = (live["spec"].get("volumeClaimTemplates") or [{}])[0]
    selector = ",".join(f"{k}={v}" for k, v in sorted(
        live["spec"]["selector"]["matchLabels"].items()))
    prefix = f"{template['metadata']['name']}-{name}-"
    resized = []
    for claim in kube.list("PersistentVolumeClaim", namespace, selector):
        claim_name = claim["metadata"]["name"]
        if not claim_name.startswith(prefix):
            continue
        kube.merge_patch("PersistentVolumeClaim", namespace, claim_name,
                         {"spec": {"resources": {"requests": {"storage": size}}}})
        resized.append(claim_name)
    kube.delete("StatefulSet", namespace, name, propagation="Orphan")
    # The garbage collector first releases the pods, then removes the object; applying
    # before that would patch the old, terminating StatefulSet.
    deadline = time.monotonic() + GONE_TIMEOUT_SECONDS
    while (still := kube.get("StatefulSet", namespace, name)) is not None and \
            still["metadata"]["uid"] == live["metadata"]["uid"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"StatefulSet {name} still terminating after "
                               f"{GONE_TIMEOUT_SECONDS} s; retrying")
        time.sleep(0.2)
    return sorted(resized)
