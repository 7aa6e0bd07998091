"""Generate the CustomResourceDefinitions (TccLog, TccLogBackup) from the pydantic models.

Pydantic writes JSON Schema; a CRD needs a *structural* OpenAPI v3 schema. The
differences this module bridges:

- no `$ref`: every referenced model is inlined where it is used;
- no `anyOf` with null: an optional field is simply not in `required`;
- no `additionalProperties: false`: not allowed next to `properties` in a CRD. Unknown
  fields are dropped by the API server instead (pruning is on for every apiextensions/v1
  CRD: an unknown field in a create or update is removed before the object is stored,
  and `kubectl apply --validate=strict` reports it as an error);
- defaults from `default_factory` appear as schema defaults, so the API server fills them
  in and the operator never has to patch spec (Argo CD would show drift);
- quantities are `x-kubernetes-int-or-string` (YAML `cpu: 1` is an int);
- no defaults under status: only the operator writes it.

`tcclog-operator crd [--kind TccLogBackup] > crds/<file>` writes the result (`make crds`
writes both); tests/unit/op/test_crd.py fails when a committed file is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonDict, NoDefault
from pydantic_core import core_schema

from .common import cel
from .spec import TccLogSpec
from .status import TccLogStatus
from .tcclog import (
    CATEGORIES,
    GROUP,
    KIND,
    MAX_NAME_LENGTH,
    PLURAL,
    SHORT_NAMES,
    SINGULAR,
    VERSION,
)
from .tcclogbackup import (
    BACKUP_KIND,
    BACKUP_MAX_NAME_LENGTH,
    BACKUP_PLURAL,
    BACKUP_SHORT_NAMES,
    BACKUP_SINGULAR,
    TccLogBackupSpec,
    TccLogBackupStatus,
)

# JSON Schema keywords that have no place (or no meaning) in a CRD schema.
_DROPPED_KEYS = ("title", "$defs")



def name_rules(max_length: int) -> tuple[JsonDict, ...]:
    return (
        cel(
            f"size(self.metadata.name) <= {max_length}",
            f"metadata.name must be at most {max_length} characters "
            "(names of child objects are derived from it)",
        ),
        cel(
            "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
            "metadata.name must start with a lowercase letter and contain only lowercase "
            "letters, digits and '-' (it prefixes Service names)",
        ),
    )


_READY = '.status.conditions[?(@.type=="Ready")]'
PRINTER_COLUMNS = (
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": f"{_READY}.status",
        "description": "Status of the Ready condition.",
    },
    {
        "name": "Reason",
        "type": "string",
        "jsonPath": f"{_READY}.reason",
        "priority": 1,
        "description": "Reason of the Ready condition.",
    },
    {
        "name": "Version",
        "type": "string",
        "jsonPath": ".spec.version",
        "description": "App version.",
    },
    {
        "name": "Backend",
        "type": "string",
        "jsonPath": ".status.components.backend.summary",
        "description": "Backend pods ready/desired.",
    },
    {
        "name": "Replicas",
        "type": "integer",
        "jsonPath": ".spec.backend.replicas",
        "priority": 1,
        "description": "Backend replicas asked for.",
    },
    {
        "name": "Postgres",
        "type": "string",
        "jsonPath": ".status.components.postgres.summary",
        "description": "PostgreSQL instances ready/desired.",
    },
    {
        "name": "Instances",
        "type": "integer",
        "jsonPath": ".spec.postgres.instances",
        "priority": 1,
        "description": "PostgreSQL instances asked for.",
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
)


class _CrdJsonSchema(GenerateJsonSchema):
    """Pydantic's generator, but defaults from `default_factory` are evaluated."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        if "default_factory" in schema:
            value = schema["default_factory"]()  # type: ignore[call-arg]
            if isinstance(value, BaseModel):
                # The whole object, not `{}`: the API server checks CEL rules against the
                # default as written, before nested defaults would fill it in.
                return value.model_dump(by_alias=True, exclude_none=True, mode="json")
            return NoDefault if value in ({}, []) else value
        default = schema.get("default", NoDefault)
        return NoDefault if default is None else default


def _structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Turn one pydantic JSON Schema node into a structural CRD schema node."""
    node = dict(node)
    if "$ref" in node:
        target = defs[node.pop("$ref").rsplit("/", 1)[-1]]
        node = {**target, **node}  # the field's description and default win over the model's
    if "anyOf" in node:
        branches = [b for b in node.pop("anyOf") if b != {"type": "null"}]
        if len(branches) != 1:
            raise ValueError(f"cannot express anyOf {branches} in a structural schema")
        node = {**_structural(branches[0], defs), **node}
    for key in _DROPPED_KEYS:
        node.pop(key, None)
    if node.get("x-kubernetes-int-or-string"):
        node.pop("type", None)  # int-or-string nodes must not declare a type
    if "properties" in node:
        node["properties"] = {k: _structural(v, defs) for k, v in node["properties"].items()}
        node.pop("additionalProperties", None)  # `false` is refused by CRDs; pruning does it
    elif isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _structural(node["additionalProperties"], defs)
    if "items" in node:
        node["items"] = _structural(node["items"], defs)
    return _ordered(node)


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    """type and description first, so the YAML reads like a hand-written schema."""
    first: dict[str, Any] = {k: node[k] for k in ("type", "description") if k in node}
    return {**first, **{k: v for k, v in node.items() if k not in first}}


def _strip_defaults(node: dict[str, Any]) -> dict[str, Any]:
    node = {k: v for k, v in node.items() if k != "default"}
    if "properties" in node:
        node["properties"] = {k: _strip_defaults(v) for k, v in node["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = _strip_defaults(node[key])
    return node


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural schema of one model, with `$ref`s inlined."""
    raw = model.model_json_schema(by_alias=True, mode="validation", schema_generator=_CrdJsonSchema)
    return _structural(raw, raw.get("$defs", {}))


@dataclass(frozen=True)
class CrdDefinition:
    """Everything that differs between our CRDs."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    description: str
    spec: type[BaseModel]
    status: type[BaseModel]
    printer_columns: tuple[dict[str, Any], ...]
    max_name_length: int

    @property
    def file_name(self) -> str:
        """Where the generated YAML is committed, under crds/."""
        return f"{GROUP}_{self.plural}.yaml"


TCCLOG_CRD = CrdDefinition(
    kind=KIND,
    plural=PLURAL,
    singular=SINGULAR,
    short_names=SHORT_NAMES,
    description="TccLog runs one complete TCC Log installation: the API server, "
    "PostgreSQL (Patroni), Redis with Sentinel, backups to S3 and Prometheus alerts.",
    spec=TccLogSpec,
    status=TccLogStatus,
    printer_columns=PRINTER_COLUMNS,
    max_name_length=MAX_NAME_LENGTH,
)

TCCLOGBACKUP_CRD = CrdDefinition(
    kind=BACKUP_KIND,
    plural=BACKUP_PLURAL,
    singular=BACKUP_SINGULAR,
    short_names=BACKUP_SHORT_NAMES,
    description="TccLogBackup runs one backup of a TccLog's database now (a Job) and "
    "reports its phase, timing, size and location.",
    spec=TccLogBackupSpec,
    status=TccLogBackupStatus,
    printer_columns=(
        {"name": "TccLog", "type": "string", "jsonPath": ".spec.tcclogRef.name",
         "description": "The TccLog backed up."},
        {"name": "Method", "type": "string", "jsonPath": ".spec.method",
         "description": "full, diff, incr or logical."},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase",
         "description": "Pending, Running, Succeeded or Failed."},
        {"name": "Size", "type": "integer", "jsonPath": ".status.sizeBytes",
         "description": "Bytes stored."},
        {"name": "Completed", "type": "date", "jsonPath": ".status.completionTime",
         "description": "When the backup finished."},
        {"name": "Location", "type": "string", "jsonPath": ".status.location", "priority": 1,
         "description": "Where the backup is."},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ),
    max_name_length=BACKUP_MAX_NAME_LENGTH,
)

CRDS: tuple[CrdDefinition, ...] = (TCCLOG_CRD, TCCLOGBACKUP_CRD)


def openapi_schema(definition: CrdDefinition = TCCLOG_CRD) -> dict[str, Any]:
    """`openAPIV3Schema` of one CRD version."""
    return {
        "type": "object",
        "description": definition.description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string", "description": "APIVersion of this object."},
            "kind": {"type": "string", "description": "Kind of this object."},
            "metadata": {"type": "object"},
            "spec": model_schema(definition.spec),
            "status": _strip_defaults(model_schema(definition.status)),
        },
        "x-kubernetes-validations": list(name_rules(definition.max_name_length)),
    }


def custom_resource_definition(definition: CrdDefinition = TCCLOG_CRD) -> dict[str, Any]:
    """The whole CRD object."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{definition.plural}.{GROUP}",
            "labels": {
                "app.kubernetes.io/name": "tcclog-operator",
                "app.kubernetes.io/part-of": "tcclog",
            },
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": definition.kind,
                "listKind": f"{definition.kind}List",
                "plural": definition.plural,
                "singular": definition.singular,
                "shortNames": list(definition.short_names),
                "categories": list(CATEGORIES),
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in definition.printer_columns],
                    "schema": {"openAPIV3Schema": openapi_schema(definition)},
                }
            ],
        },
    }


def crd_yaml(definition: CrdDefinition = TCCLOG_CRD) -> str:
    """One CRD as the YAML committed in crds/ (deterministic: same models, same bytes)."""
    header = (
        "# Generated by `tcclog-operator crd` from operator/tcclog_operator/models. Do not edit.\n"
    )
    return header + yaml.safe_dump(
        custom_resource_definition(definition), sort_keys=False, width=100, allow_unicode=True
    )
