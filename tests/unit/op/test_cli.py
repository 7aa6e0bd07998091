"""`tcclog-operator render` and `crd` (no cluster)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from tcclog_operator.cli import main
from tcclog_operator.models.crd import crd_yaml

from .conftest import EXAMPLES


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_crd_prints_the_generated_crd(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "crd")
    assert code == 0 and out == crd_yaml()


def test_render_redacts_generated_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "render", "-f", str(EXAMPLES / "minimal.yaml"))
    assert code == 0
    docs = list(yaml.safe_load_all(out))
    secrets = [d for d in docs if d["kind"] == "Secret"]
    assert secrets and all(set(s["data"].values()) == {""} for s in secrets)
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "ConfigMap"}
    assert all("ownerReferences" not in d["metadata"] for d in docs)  # no uid in the file


def test_render_show_secrets_and_uid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "render", "-f", str(EXAMPLES / "production.yaml"), "--show-secrets", "--uid", "abc"
    )
    assert code == 0
    docs = list(yaml.safe_load_all(out))
    jwt = next(d for d in docs if d["kind"] == "Secret")["data"]["jwt-secret"]
    assert len(base64.b64decode(jwt)) >= 40
    assert all(d["metadata"]["ownerReferences"][0]["uid"] == "abc" for d in docs)
    assert any(d["kind"] == "HorizontalPodAutoscaler" for d in docs)


def test_render_reports_invalid_specs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "tcclog.com/v1alpha1",
                "kind": "TccLog",
                "metadata": {"name": "x"},
                "spec": {"version": "0.1.0", "postgres": {"instances": 12}},
            }
        )
    )
    code, _, err = run_cli(capsys, "render", "-f", str(bad))
    assert code == 2
    assert "spec.postgres.instances" in err


def test_render_uses_namespace_flag(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = tmp_path / "t.yaml"
    doc.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "tcclog.com/v1alpha1",
                "kind": "TccLog",
                "metadata": {"name": "x"},
                "spec": {"version": "0.1.0"},
            }
        )
    )
    _, out, _ = run_cli(capsys, "render", "-f", str(doc), "-n", "elsewhere")
    assert {d["metadata"]["namespace"] for d in yaml.safe_load_all(out)} == {"elsewhere"}
