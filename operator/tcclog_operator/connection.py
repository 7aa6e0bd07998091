"""Where the API server is and how the operator proves who it is: the pod's service
account, or a kubeconfig (KUBECONFIG, else ~/.kube/config).

One place for the three users of the API: kopf's own login (handlers/startup.py), the
children's watches (watches.py, aiohttp) and reconcile's requests (kube.py, urllib3).
The kubernetes client package is not used: kopf imports it, when installed, only to
borrow its login, and it would cost the operator ~8 MiB of memory.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import os
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
#: The kubelet rotates a projected service account token well before it expires (1 h);
#: rereading it this often is what the Kubernetes client libraries do.
TOKEN_REREAD_SECONDS = 60


class KubeconfigError(Exception):
    """The kubeconfig gives no usable way to the API server; the message says why."""


@dataclass
class Connection:
    """One API server and the operator's credentials for it."""

    server: str  # e.g. https://10.96.0.1:443
    ca_file: str | None = None  # PEM bundle; None: the system's trust store
    insecure: bool = False  # insecure-skip-tls-verify (kubeconfig), never in a pod
    cert_file: str | None = None  # client certificate and key (PEM files)
    key_file: str | None = None
    token: str | None = None
    token_file: str | None = None  # reread now and then: the kubelet rotates it
    exec_plugin: ExecPlugin | None = None  # a cloud login command (EKS, GKE, AKS...)
    namespace: str | None = None  # the pod's own, or the kubeconfig context's
    _cached_token: tuple[str, float] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_environment(cls) -> Connection:
        """In a pod: its service account. Elsewhere: KUBECONFIG or ~/.kube/config."""
        if os.environ.get("KUBERNETES_SERVICE_HOST") and (SERVICE_ACCOUNT_DIR / "token").exists():
            return cls.in_cluster()
        return cls.from_kubeconfig(os.environ.get("KUBECONFIG") or "~/.kube/config")

    @classmethod
    def in_cluster(cls, account_dir: Path = SERVICE_ACCOUNT_DIR) -> Connection:
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        host = f"[{host}]" if ":" in host else host  # an IPv6 service address
        namespace_file = account_dir / "namespace"
        return cls(server=f"https://{host}:{port}",
                   ca_file=str(account_dir / "ca.crt"),
                   token_file=str(account_dir / "token"),
                   namespace=namespace_file.read_text().strip()
                   if namespace_file.exists() else None)

    @classmethod
    def from_kubeconfig(cls, paths: str) -> Connection:
        """The current context of one or more kubeconfig files (os.pathsep-separated,
        the first definition of a name wins, as with kubectl)."""
        merged: dict[str, dict[str, Any]] = {"contexts": {}, "clusters": {}, "users": {}}
        current: str | None = None
        bases: dict[tuple[str, str], Path] = {}  # relative paths count from their file
        for raw in filter(None, paths.split(os.pathsep)):
            path = Path(raw).expanduser()
            if not path.exists():
                continue
            config = yaml.safe_load(path.read_text()) or {}
            current = current or config.get("current-context")
            for section, entries in merged.items():
                for item in config.get(section) or []:
                    if item["name"] not in entries:
                        entries[item["name"]] = item.get(section[:-1]) or {}
                        bases[(section, item["name"])] = path.parent
        if not current:
            raise KubeconfigError(f"no current-context in kubeconfig {paths}")
        try:
            context = merged["contexts"][current]
            cluster = merged["clusters"][context["cluster"]]
            user = merged["users"][context["user"]]
        except KeyError as missing:
            raise KubeconfigError(f"kubeconfig context {current!r}: {missing} is not "
                                  "defined") from None
        if "auth-provider" in user:
            raise KubeconfigError(
                f"kubeconfig user {context['user']!r} logs in through a legacy auth provider, "
                "which the operator does not run: use the provider's exec plugin, a token or "
                "a client certificate (a ServiceAccount token works), or run it in the cluster")
        cluster_base = bases[("clusters", context["cluster"])]
        user_base = bases[("users", context["user"])]
        plugin = user.get("exec")
        return cls(
            server=str(cluster["server"]).rstrip("/"),
            ca_file=_pem_file(cluster, "certificate-authority", cluster_base),
            insecure=bool(cluster.get("insecure-skip-tls-verify")),
            cert_file=_pem_file(user, "client-certificate", user_base),
            key_file=_pem_file(user, "client-key", user_base),
            token=user.get("token"),
            token_file=str(user_base / user["tokenFile"]) if user.get("tokenFile") else None,
            exec_plugin=ExecPlugin.from_kubeconfig(plugin, user_base) if plugin else None,
            namespace=context.get("namespace"),
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """How to speak TLS to the server; None for a plain http:// server."""
        if not self.server.startswith("https:"):
            return None
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def bearer_token(self) -> str | None:
        if not (self.exec_plugin or self.token_file):
            return self.token
        # Threads may race to refresh it: harmless, each gets a valid token.
        if self._cached_token is None or time.time() >= self._cached_token[1]:
            self._cached_token = self._fresh_token()
        return self._cached_token[0]

    def _fresh_token(self) -> tuple[str, float]:
        """A token, and when to get one again."""
        if self.exec_plugin:
            token, expiry = self.exec_plugin.credential()
            return token, expiry - 60  # a minute before it expires
        token = Path(str(self.token_file)).read_text().strip()
        return token, time.time() + TOKEN_REREAD_SECONDS

    def headers(self) -> dict[str, str]:
        """What every request carries: who we are, and that we speak JSON."""
        headers = {"Accept": "application/json", "User-Agent": "tcclog-operator"}
        token = self.bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers


@dataclass(frozen=True)
class ExecPlugin:
    """A kubeconfig `exec` user: a command printing an ExecCredential with a token."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = "client.authentication.k8s.io/v1"

    @classmethod
    def from_kubeconfig(cls, plugin: dict[str, Any], base: Path) -> ExecPlugin:
        command = str(plugin["command"])
        if os.sep in command and not os.path.isabs(command):  # as kubectl: from the file
            command = str(base / command)
        return cls(command, tuple(plugin.get("args") or ()),
                   tuple((e["name"], e["value"]) for e in plugin.get("env") or ()),
                   plugin.get("apiVersion") or cls.api_version)

    def credential(self) -> tuple[str, float]:
        """(token, expiry as a Unix time, or infinity)."""
        info = {"apiVersion": self.api_version, "kind": "ExecCredential",
                "spec": {"interactive": False}}
        try:
            done = subprocess.run(
                [self.command, *self.args], capture_output=True, text=True, timeout=60,
                check=False,
                env={**os.environ, **dict(self.env), "KUBERNETES_EXEC_INFO": json.dumps(info)})
        except (OSError, subprocess.TimeoutExpired) as error:
            raise KubeconfigError(f"exec plugin {self.command}: {error}") from None
        if done.returncode != 0:
            raise KubeconfigError(f"exec plugin {self.command} failed ({done.returncode}): "
                                  f"{done.stderr.strip()[-300:]}")
        try:
            status = json.loads(done.stdout).get("status") or {}
        except ValueError:
            raise KubeconfigError(f"exec plugin {self.command} printed no JSON") from None
        if not status.get("token"):
            raise KubeconfigError(f"exec plugin {self.command} gave no token (client "
                                  "certificates from exec plugins are not supported)")
        expires = status.get("expirationTimestamp")
        expiry = (datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp()
                  if expires else math.inf)
        return str(status["token"]), expiry


@functools.cache
def environment_connection() -> Connection:
    """The operator's one Connection (from_environment), shared by kopf's login and ours:
    made once, so certificate data is written to a file once."""
    return Connection.from_environment()


def _pem_file(section: dict[str, Any], key: str, base: Path) -> str | None:
    """`key` as a file path, or `key`-data (base64) written to a private file: the ssl
    module loads client certificates only from files."""
    if section.get(key):
        return str(base / section[key])
    data = section.get(f"{key}-data")
    if not data:
        return None
    handle, path = tempfile.mkstemp(prefix="tcclog-", suffix=".pem")  # mode 0600
    with os.fdopen(handle, "wb") as out:
        out.write(base64.b64decode(data))
    return path
