"""The pydantic models: wire names, defaults, refusals that do not need CEL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tcclog_operator.models import TccLog, TccLogSpec

from .conftest import make


def test_examples_parse(minimal: TccLog, production: TccLog) -> None:
    assert minimal.spec.backend.replicas == 1
    assert production.spec.backend.autoscaling.enabled
    assert production.spec.backup is not None and production.spec.backup.s3 is not None
    assert production.spec.backup.s3.credentials_secret_ref is not None


def test_wire_names_follow_the_design() -> None:
    spec = TccLogSpec.model_validate(
        {
            "version": "0.1.0",
            "backend": {"autoscaling": {"targetCPUUtilizationPercentage": 50}},
            "ai": {"baseURL": "http://lm:1234/v1"},
        }
    )
    wire = spec.to_wire()
    assert wire["backend"]["autoscaling"]["targetCPUUtilizationPercentage"] == 50
    assert "targetMemoryUtilizationPercentage" in wire["backend"]["autoscaling"]
    assert wire["ai"]["baseURL"] == "http://lm:1234/v1"
    assert wire["backend"]["podDisruptionBudget"] == {"enabled": True}


def test_defaults_fill_a_bare_spec() -> None:
    spec = TccLogSpec(version="0.1.0")
    assert spec.backend.replicas == 2
    assert spec.postgres.instances == 1
    assert spec.postgres.storage.size == "10Gi"
    assert spec.redis.sentinels == 3
    assert spec.backup is None and spec.ai is None and spec.backend.ingress is None


def test_integer_quantities_become_strings() -> None:
    tcclog = make({"backend": {"resources": {"requests": {"cpu": 1}, "limits": {"cpu": 2.5}}}})
    assert tcclog.spec.backend.resources.requests is not None
    assert tcclog.spec.backend.resources.requests.cpu == "1"
    assert tcclog.spec.backend.resources.limits is not None
    assert tcclog.spec.backend.resources.limits.cpu == "2.5"


@pytest.mark.parametrize(
    "spec",
    [
        {"bogus": 1},  # unknown keys fail loudly in `render -f`
        {"backend": {"replicas": -1}},
        {"postgres": {"instances": 10}},
        {"backend": {"resources": {"requests": {"cpu": "lots"}}}},
        {"backend": {"logLevel": "trace"}},
        {"backend": {"ingress": {"host": "Not_A_Host"}}},
    ],
)
def test_invalid_specs_are_refused(spec: dict) -> None:
    with pytest.raises(ValidationError):
        make(spec)


def test_body_metadata_extras_are_ignored() -> None:
    tcclog = make({}, managedFields=[{"manager": "kubectl"}], resourceVersion="7")
    assert tcclog.metadata.name == "demo"
    assert tcclog.metadata.uid == "0000-uid"
