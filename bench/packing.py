"""Memory form of the children (packing.py): bytes per TccLog and time per object.

    .venv/bin/python -m bench.packing                  # children rendered for a TccLog
    .venv/bin/python -m bench.packing --live LIST.json  # or as a cluster returns them:
        kubectl get sa,secrets,cm,svc,deploy,hpa,pdb,sts,roles,rolebindings,netpol,\
cronjobs,pods,jobs -n NS -l app.kubernetes.io/instance=NAME -o json > LIST.json

Compares deflating each object alone (what the operator did before) with deflating it
against packing's dictionary. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import time
import zlib
from pathlib import Path
from typing import Any

from tcclog_operator import drift, packing
from tcclog_operator.models import TccLog
from tcclog_operator.render import RenderSettings, fill_secret_values, render


def _rendered_children() -> list[dict[str, Any]]:
    tcclog = TccLog.from_body({
        "apiVersion": "tcclog.com/v1alpha1", "kind": "TccLog",
        "metadata": {"name": "orders", "namespace": "shop", "uid": "3f1c", "generation": 2},
        "spec": {"version": "0.1.0"}})
    return [drift.stamp(obj) for obj in render(
        tcclog, RenderSettings(), secret_values=fill_secret_values(tcclog, {}))]


def _alone(obj: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(packing.trimmed(obj), separators=(",", ":")).encode(), 1)


def _per_object_us(function: Any, items: list[Any], rounds: int = 200) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for item in items:
            function(item)
    return (time.perf_counter() - started) / rounds / len(items) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live", type=Path, help="a List of one TccLog's children (JSON)")
    args = parser.parse_args()
    children = (json.loads(args.live.read_text())["items"] if args.live
                else _rendered_children())
    packed = [packing.packed(obj) for obj in children]
    alone = [_alone(obj) for obj in children]
    print(f"{len(children)} children ({'live' if args.live else 'rendered'}):")  # noqa: T201
    print(f"  deflated alone:          {sum(map(len, alone)):6d} bytes, "  # noqa: T201
          f"{_per_object_us(_alone, children):5.0f} us/object")
    print(f"  packed (dictionary):     {sum(map(len, packed)):6d} bytes, "  # noqa: T201
          f"{_per_object_us(packing.packed, children):5.0f} us/object")
    print(f"  unpack alone / packed:   "  # noqa: T201
          f"{_per_object_us(lambda d: json.loads(zlib.decompress(d)), alone):5.0f} / "
          f"{_per_object_us(packing.unpacked, packed):.0f} us/object")


if __name__ == "__main__":
    main()
