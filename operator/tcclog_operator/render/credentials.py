"""Generated Secrets: made once, never regenerated, never logged.

Render is pure, so it cannot invent passwords: it would produce new ones on every call.
Instead the one impure step is explicit and happens before render:

    existing = values_from_secret_objects(secrets_read_from_cluster)   # kube.py
    values = fill_secret_values(tcclog, existing)                      # generates only gaps
    objects = render(tcclog, settings, secret_values=values)           # pure

`fill_secret_values` keeps every value already present and generates (with `secrets`)
only keys that are missing, so a reconcile never rotates a credential. The caller must
pass what is *in the cluster*: a Secret that could not be read (as opposed to one that
does not exist) must abort the reconcile, never be treated as empty.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..models import TccLog
from .meta import names, object_meta

SecretValues = Mapping[str, Mapping[str, str]]

JWT_SECRET_KEY = "jwt-secret"
POSTGRES_SUPERUSER_PASSWORD_KEY = "superuser-password"
POSTGRES_REPLICATION_PASSWORD_KEY = "replication-password"
POSTGRES_APP_PASSWORD_KEY = "app-password"
POSTGRES_READONLY_PASSWORD_KEY = "readonly-password"
REDIS_PASSWORD_KEY = "password"


def new_secret_value() -> str:
    """43 URL-safe characters (256 bits): safe inside URLs, DSNs and config files."""
    return secrets.token_urlsafe(32)


def required_secrets(tcclog: TccLog) -> dict[str, tuple[str, ...]]:
    """Secret name -> keys the operator generates for this TccLog (what kube.py must read)."""
    child = names(tcclog)
    return {
        child.backend_secret: (JWT_SECRET_KEY,),
        child.postgres_credentials: (
            POSTGRES_SUPERUSER_PASSWORD_KEY,
            POSTGRES_REPLICATION_PASSWORD_KEY,
            POSTGRES_APP_PASSWORD_KEY,
            POSTGRES_READONLY_PASSWORD_KEY,
        ),
        child.redis_credentials: (REDIS_PASSWORD_KEY,),
    }


def fill_secret_values(
    tcclog: TccLog,
    existing: SecretValues,
    generate: Callable[[], str] = new_secret_value,
) -> dict[str, dict[str, str]]:
    """Every required key: the existing value when there is one, else a new one."""
    filled: dict[str, dict[str, str]] = {}
    for secret_name, keys in required_secrets(tcclog).items():
        current = existing.get(secret_name, {})
        filled[secret_name] = {key: current.get(key) or generate() for key in keys}
    return filled


def values_from_secret_objects(objects: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Decode Secrets as read from the API (base64 `data`) into name -> key -> value."""
    decoded: dict[str, dict[str, str]] = {}
    for obj in objects:
        data = obj.get("data") or {}
        decoded[obj["metadata"]["name"]] = {
            key: base64.b64decode(value).decode() for key, value in data.items()
        }
    return decoded


def render_secrets(tcclog: TccLog, secret_values: SecretValues) -> list[dict[str, Any]]:
    """The generated Secrets. Raises KeyError if a value is missing (call fill_secret_values)."""
    child = names(tcclog)
    component = {
        child.backend_secret: "backend",
        child.postgres_credentials: "postgres",
        child.redis_credentials: "redis",
    }
    objects = []
    for secret_name, keys in required_secrets(tcclog).items():
        values = secret_values[secret_name]
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": object_meta(tcclog, secret_name, component[secret_name]),
                "type": "Opaque",
                # `data`, not `stringData`: stringData is write-only, so server-side apply
                # would see a difference on every reconcile.
                "data": {key: _b64(values[key]) for key in keys},
            }
        )
    return objects


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()
