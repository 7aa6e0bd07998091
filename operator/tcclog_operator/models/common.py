"""Building blocks shared by the spec sections: quantities, resources, secret references.

Limits (max_length, max_items) are not decoration: the API server's CEL cost estimator
refuses rules over strings and lists of unbounded size, so every string and list a CEL
rule can see carries a bound.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonDict

#: A Kubernetes resource quantity ("250m", "1Gi", "2"). Same grammar as resource.Quantity.
_DECIMAL = r"(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
QUANTITY_PATTERN = rf"^(\+|-)?{_DECIMAL}(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?{_DECIMAL}))?$"
#: RFC 1123 DNS subdomain: the names of Secrets, StorageClasses, IngressClasses.
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#: A key inside a Secret's data.
SECRET_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"

# Marker read by models/crd.py: render this field as `x-kubernetes-int-or-string`.
INT_OR_STRING: dict[str, Any] = {"x-kubernetes-int-or-string": True}


def _quantity_to_str(value: Any) -> Any:
    # YAML turns `cpu: 1` into an int; Kubernetes accepts both, so do we.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


# Field() before the validator: pydantic keeps the pattern in the JSON schema only that way.
Quantity = Annotated[
    str,
    Field(pattern=QUANTITY_PATTERN, max_length=64, json_schema_extra=INT_OR_STRING),
    BeforeValidator(_quantity_to_str),
]


class ApiModel(BaseModel):
    """Base for every API type: camelCase on the wire, snake_case in Python, no unknown keys.

    Unknown keys are refused here (a typo in `tcclog-operator render -f` fails loudly); the
    API server prunes them before the operator ever sees an object, see models/crd.py.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The object as it appears in YAML: camelCase keys, unset optionals left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class ResourceList(ApiModel):
    """Amounts of CPU and memory, as in a container's `resources.requests` or `limits`."""

    cpu: Quantity | None = Field(None, description="CPU, e.g. 250m (a quarter core) or 1.")
    memory: Quantity | None = Field(None, description="Memory, e.g. 512Mi or 1Gi.")


class ResourceRequirements(ApiModel):
    """Compute resources for one container. Requests must not exceed limits."""

    requests: ResourceList | None = Field(
        None, description="Resources the scheduler reserves for the container."
    )
    limits: ResourceList | None = Field(
        None, description="Upper bounds the container may use; memory above it is OOM-killed."
    )


class SecretKeySelector(ApiModel):
    """One key of a Secret in the TccLog's namespace."""

    name: str = Field(
        description="Name of the Secret (same namespace as the TccLog).",
        min_length=1,
        max_length=253,
        pattern=DNS_SUBDOMAIN_PATTERN,
    )
    key: str = Field(
        description="Key inside the Secret's data.",
        min_length=1,
        max_length=253,
        pattern=SECRET_KEY_PATTERN,
    )


class S3CredentialsSecretRef(ApiModel):
    """A Secret holding S3 access keys, in the TccLog's namespace."""

    name: str = Field(
        description="Name of the Secret (same namespace as the TccLog).",
        min_length=1,
        max_length=253,
        pattern=DNS_SUBDOMAIN_PATTERN,
    )
    access_key_id_key: str = Field(
        "AWS_ACCESS_KEY_ID",
        description="Key of the access key id inside the Secret.",
        min_length=1,
        max_length=253,
        pattern=SECRET_KEY_PATTERN,
    )
    secret_access_key_key: str = Field(
        "AWS_SECRET_ACCESS_KEY",
        description="Key of the secret access key inside the Secret.",
        min_length=1,
        max_length=253,
        pattern=SECRET_KEY_PATTERN,
    )


def cel(rule: str, message: str, field_path: str | None = None) -> JsonDict:
    """One `x-kubernetes-validations` entry."""
    entry: JsonDict = {"rule": rule, "message": message}
    if field_path:
        entry["fieldPath"] = field_path
    return entry


def validated(*rules: JsonDict) -> ConfigDict:
    """model_config that attaches CEL rules to the model's object schema."""
    return ConfigDict(json_schema_extra={"x-kubernetes-validations": list(rules)})


def _requests_within_limits(resource: str, where: str) -> JsonDict:
    both_set = (
        f"has(self.requests) && has(self.limits) && "
        f"has(self.requests.{resource}) && has(self.limits.{resource})"
    )
    compare = (
        f"quantity(string(self.requests.{resource}))"
        f".compareTo(quantity(string(self.limits.{resource}))) <= 0"
    )
    return cel(
        f"!({both_set}) || {compare}",
        f"{where}.resources.requests.{resource} must be less than or equal to "
        f"{where}.resources.limits.{resource}",
    )


def requests_within_limits_rules(where: str) -> ConfigDict:
    return validated(
        _requests_within_limits("cpu", where), _requests_within_limits("memory", where)
    )


def default_resources(cls: type[ResourceRequirements], cpu: str, memory: str, limit: str) -> Any:
    """A resources field with a schema default: CPU unlimited (no throttling), memory capped."""
    default = {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": limit}}
    return Field(
        default_factory=lambda: cls.model_validate(default),
        description="CPU and memory requests and limits. Requests must not exceed limits.",
    )
