"""canonical_quantity matches what kube-apiserver v1.36 stores in container resources.

Every expected value below was read back from a real API server (dry-run create),
so render's output equals the live object and an idle reconcile writes nothing.
"""

from __future__ import annotations

import pytest

from tcclog_operator.render.quantity import canonical_quantity

from .conftest import make, one, render_all

SERVER_STORED = {
    "0.5": "500m",
    "100m": "100m",
    "1000m": "1",
    "1500m": "1500m",
    "1.5": "1500m",
    "2000": "2k",
    "1": "1",
    "1Gi": "1Gi",
    "1.5Gi": "1536Mi",
    "1024Mi": "1Gi",
    "1000Ki": "1000Ki",
    "0.5Ki": "512",
    "512Mi": "512Mi",
    "1e3": "1e3",
    "1.5e3": "1500",
    "0": "0",
    "0.1": "100m",
    "2000M": "2G",
    "1.5Ki": "1536",
    "0.0000000001": "1m",
    "3.3333": "3334m",
    "+1": "+1",
    "1.5e-2": "1.5e-2",
    "1.25Gi": "1280Mi",
    "0.75Mi": "768Ki",
    "1023": "1023",
    "4096": "4096",
    "007": "007",
    "0.100": "100m",
    "2.50": "2500m",
    "5000m": "5",
    "1000k": "1M",
    "12345678901": "12345678901",
    "129e6": "129e6",
    "0.5m": "1m",
    "1.0Gi": "1Gi",
    "10.010": "10.010",
    ".5": "500m",
}


@pytest.mark.parametrize(("given", "stored"), sorted(SERVER_STORED.items()))
def test_matches_the_api_server(given: str, stored: str) -> None:
    assert canonical_quantity(given) == stored


@pytest.mark.parametrize("bad", ["", "lots", "1Xi", "1.2.3"])
def test_refuses_garbage(bad: str) -> None:
    with pytest.raises(ValueError):
        canonical_quantity(bad)


def test_render_writes_canonical_resources() -> None:
    tcclog = make(
        {
            "backend": {
                "resources": {
                    "requests": {"cpu": 0.5, "memory": "1024Mi"},
                    "limits": {"memory": "1.5Gi"},
                }
            }
        }
    )
    container = one(render_all(tcclog), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"memory": "1536Mi"},
    }
