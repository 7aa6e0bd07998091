"""Where the API server is and how the operator proves who it is: the pod's service
account, or a kubeconfig (KUBECONFIG, else ~/.kube/config).

One place for the three users of the API: kopf's own login (handlers/startup.py), the
children's watches (watches.py, aiohttp) and reconcile's requests (kube.py, urllib3).
The kubernetes client package is not used: kopf imports it, when installed, only to
borrow its login, and it would cost the operator ~16 MiB of memory.
"""

from __future__ import annotations

import base64
import functools
import os
import ssl
import tempfile
import time
from dataclasses import dataclass, field
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
    server: str  # e.g. https://10.96.0.1:443
    ca_file: str | None = None  # PEM bundle; None: the system's trust store
    insecure: bool = False  # insecure-skip-tls-verify (kubeconfig), never in a pod
    cert_file: str | None = None  # client certificate and key (PEM files)
    key_file: str | None = None
    token: str | None = None
    token_file: str | None = None  # reread now and then: the kubelet rotates it
    namespace: str | None = None  # the pod's own, or the kubeconfig context's
    _token_read: tuple[str, float] | None = field(default=None, init=False, repr=False)

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
        if "exec" in user or "auth-provider" in user:
            raise KubeconfigError(
                f"kubeconfig user {context['user']!r} logs in through an exec plugin or an "
                "auth provider, which the operator does not run: give it a token or a "
                "client certificate (a ServiceAccount token works), or run it in the cluster")
        cluster_base = bases[("clusters", context["cluster"])]
        user_base = bases[("users", context["user"])]
        return cls(
            server=str(cluster["server"]).rstrip("/"),
            ca_file=_pem_file(cluster, "certificate-authority", cluster_base),
            insecure=bool(cluster.get("insecure-skip-tls-verify")),
            cert_file=_pem_file(user, "client-certificate", user_base),
            key_file=_pem_file(user, "client-key", user_base),
            token=user.get("token"),
            token_file=str(user_base / user["tokenFile"]) if user.get("tokenFile") else None,
            namespace=context.get("namespace"),
        )

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def bearer_token(self) -> str | None:
        if not self.token_file:
            return self.token
        # Threads may race to reread it: harmless, both read the same file.
        if self._token_read is None or time.monotonic() - self._token_read[1] > \
                TOKEN_REREAD_SECONDS:
            self._token_read = (Path(self.token_file).read_text().strip(), time.monotonic())
        return self._token_read[0]

    def headers(self) -> dict[str, str]:
        """What every request carries: who we are, and that we speak JSON."""
        headers = {"Accept": "application/json", "User-Agent": "tcclog-operator"}
        token = self.bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers


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
