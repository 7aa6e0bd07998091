"""Connection: how the operator finds and authenticates to the API server."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from tcclog_operator import connection
from tcclog_operator.connection import Connection, KubeconfigError
from tcclog_operator.kube import ApiError

pytestmark = pytest.mark.unit


def _kubeconfig(path: Path, *, user: dict[str, object], cluster: dict[str, object] | None = None,
                context: str = "dev", namespace: str | None = None) -> Path:
    path.write_text(yaml.safe_dump({
        "current-context": context,
        "contexts": [{"name": context, "context": {"cluster": "c", "user": "u",
                                                    **({"namespace": namespace} if namespace
                                                       else {})}}],
        "clusters": [{"name": "c", "cluster": cluster or {"server": "https://127.0.0.1:6443/"}}],
        "users": [{"name": "u", "user": user}],
    }))
    return path


def test_kubeconfig_with_embedded_certificates_writes_them_to_private_files(tmp_path: Path
                                                                            ) -> None:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    path = _kubeconfig(tmp_path / "config", user={
        "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY")}, cluster={
        "server": "https://127.0.0.1:6443/", "certificate-authority-data": b64("CA")},
        namespace="team")
    conn = Connection.from_kubeconfig(str(path))
    assert conn.server == "https://127.0.0.1:6443"
    assert conn.namespace == "team"
    assert conn.cert_file and conn.key_file and conn.ca_file
    assert Path(conn.cert_file).read_text() == "CERT"
    assert Path(conn.key_file).read_text() == "KEY"
    assert Path(conn.ca_file).read_text() == "CA"
    assert Path(conn.key_file).stat().st_mode & 0o077 == 0  # nobody else reads the key
    assert "Authorization" not in conn.headers()


def test_kubeconfig_paths_are_relative_to_their_file_and_the_first_definition_wins(
        tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    first = _kubeconfig(tmp_path / "a" / "config", user={"client-certificate": "me.crt",
                                                        "client-key": "me.key"},
                        cluster={"server": "https://a:6443", "certificate-authority": "ca.crt"})
    second = _kubeconfig(tmp_path / "other", user={"token": "not-this-one"},
                         cluster={"server": "https://b:6443"}, context="other")
    conn = Connection.from_kubeconfig(f"{first}:{tmp_path / 'missing'}:{second}")
    assert conn.server == "https://a:6443"  # current-context of the first file
    assert conn.cert_file == str(tmp_path / "a" / "me.crt")
    assert conn.ca_file == str(tmp_path / "a" / "ca.crt")
    assert conn.token is None


def test_token_and_token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    static = Connection.from_kubeconfig(str(_kubeconfig(tmp_path / "s", user={"token": "abc"})))
    assert static.headers()["Authorization"] == "Bearer abc"

    (tmp_path / "token").write_text("first\n")
    rotating = Connection.from_kubeconfig(
        str(_kubeconfig(tmp_path / "r", user={"tokenFile": "token"})))
    assert rotating.headers()["Authorization"] == "Bearer first"
    (tmp_path / "token").write_text("second\n")
    assert rotating.bearer_token() == "first"  # not reread on every request
    later = time.time() + connection.TOKEN_REREAD_SECONDS + 1
    monkeypatch.setattr(connection.time, "time", lambda: later)
    assert rotating.bearer_token() == "second"


def test_exec_plugin_runs_again_only_when_its_credential_expires(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As for EKS, GKE and AKS kubeconfigs: the command prints an ExecCredential."""
    runs = tmp_path / "runs"
    plugin = tmp_path / "bin" / "login"
    plugin.parent.mkdir()
    plugin.write_text(f"""#!/bin/sh
echo run >> {runs}
echo '{{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
  "status": {{"token": "'"$REGION"'-'"$(wc -l < {runs})"'",
              "expirationTimestamp": "2030-01-01T00:00:00Z"}}}}'
""")
    plugin.chmod(0o755)
    conn = Connection.from_kubeconfig(str(_kubeconfig(tmp_path / "config", user={"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": "bin/login",
        "env": [{"name": "REGION", "value": "eu"}]}})))
    assert conn.headers()["Authorization"] == "Bearer eu-1"
    assert conn.bearer_token() == "eu-1"  # cached while valid
    expired = datetime(2030, 1, 1, tzinfo=UTC).timestamp()
    monkeypatch.setattr(connection.time, "time", lambda: expired)
    assert conn.bearer_token() == "eu-2"


def test_a_failing_exec_plugin_says_why(tmp_path: Path) -> None:
    conn = Connection.from_kubeconfig(str(_kubeconfig(tmp_path / "config", user={
        "exec": {"command": "sh", "args": ["-c", "echo 'no SSO session' >&2; exit 3"]}})))
    with pytest.raises(KubeconfigError, match="failed \\(3\\): no SSO session"):
        conn.headers()


def test_in_cluster_uses_the_service_address_and_account(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for name, text in {"token": "sa-token", "namespace": "tcclog-system", "ca.crt": "CA"}.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    conn = Connection.in_cluster(tmp_path)
    assert conn.server == "https://[fd00::1]:443"
    assert conn.namespace == "tcclog-system"
    assert conn.ca_file == str(tmp_path / "ca.crt")
    assert conn.headers()["Authorization"] == "Bearer sa-token"


@pytest.mark.parametrize(("user", "context", "expected"), [
    ({"auth-provider": {"name": "gcp"}}, "dev", "legacy auth provider"),
    ({"token": "t"}, "", "no current-context"),
])
def test_unusable_kubeconfigs_say_why(tmp_path: Path, user: dict[str, object], context: str,
                                      expected: str) -> None:
    path = _kubeconfig(tmp_path / "config", user=user, context=context)
    with pytest.raises(KubeconfigError, match=expected):
        Connection.from_kubeconfig(str(path))


def test_api_error_carries_the_servers_message() -> None:
    error = ApiError(422, '{"kind":"Status","message":"spec.replicas: Invalid value"}')
    assert error.reason == "Unprocessable Entity"
    assert error.message == "spec.replicas: Invalid value"
    assert str(error) == "422 Unprocessable Entity: spec.replicas: Invalid value"
    assert ApiError(502, "<html>bad gateway</html>").message == "<html>bad gateway</html>"
