"""The TccLog resource as a whole: identity constants, metadata, spec and status."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from .spec import TccLogSpec
from .status import TccLogStatus

GROUP = "tcclog.com"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "TccLog"
PLURAL = "tcclogs"
SINGULAR = "tcclog"
SHORT_NAMES = ("tcc",)
CATEGORIES = ("tcclog", "all")

#: Longest metadata.name: the longest child StatefulSet (`<name>-postgres`, `<name>-sentinel`)
#: plus the controller-revision-hash suffix must stay within a 63-character label value.
MAX_NAME_LENGTH = 40


class ObjectMeta(BaseModel):
    """The parts of metadata the operator reads. Everything else a body carries is ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    name: str
    namespace: str | None = None
    uid: str | None = None
    generation: int | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class ApiObject(BaseModel):
    """Base of our whole objects (TccLog, TccLogBackup): camelCase, foreign keys ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    @classmethod
    def from_body(cls, body: Any) -> Self:
        """Parse a kopf body / API response / YAML document (any mapping)."""
        return cls.model_validate(dict(body))


class TccLog(ApiObject):
    """A whole TccLog object, e.g. `TccLog.from_body(body)` on a kopf body or YAML."""

    api_version: Literal["tcclog.com/v1alpha1"] = "tcclog.com/v1alpha1"
    kind: Literal["TccLog"] = "TccLog"
    metadata: ObjectMeta
    spec: TccLogSpec
    status: TccLogStatus | None = None
