"""The operator and the app agree on configuration: every TCCLOG_* variable the operator
renders is a setting the app reads (a typo would be silently ignored at run time)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tcclog.core.config import Settings
from tcclog_operator.models import TccLog
from tcclog_operator.render import fill_secret_values, render

EXAMPLES = Path(__file__).parents[3] / "examples"


def _rendered_app_variables(example: str) -> set[str]:
    tcclog = TccLog.from_body(yaml.safe_load((EXAMPLES / example).read_text()))
    objects = render(tcclog, secret_values=fill_secret_values(tcclog, {}))
    names: set[str] = set()
    for obj in objects:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].endswith("-backend"):
            names |= set(obj["data"])
        if obj["kind"] == "Deployment":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                names |= {env["name"] for env in container.get("env", [])}
    return {name for name in names if name.startswith("TCCLOG_")}


def test_every_rendered_variable_is_an_app_setting() -> None:
    known = {f"TCCLOG_{field.upper()}" for field in Settings.model_fields}
    for example in ("minimal.yaml", "production.yaml"):
        rendered = _rendered_app_variables(example)
        assert rendered, example
        assert rendered <= known, f"{example}: unknown to the app: {sorted(rendered - known)}"
