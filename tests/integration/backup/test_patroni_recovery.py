"""A new TccLog with spec.bootstrap.recovery, bootstrapped by real Patroni from the config the
operator applied: Patroni runs the rendered custom bootstrap (recovery.sh: pgbackrest
restore from the other cluster's S3 repository), recovers to targetTime with the rendered
recovery_conf, promotes and runs the post-bootstrap script. Needs the local control plane
(tests/e2e), like tests/integration/data; one member is enough."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import psycopg
import pytest
import yaml
from kubernetes import client

from tcclog_operator.render.patroni import POD_PATHS
from tcclog_operator.render.pgbackrest import CONFIG_MOUNT, LOCK_PATH, SPOOL_PATH
from tests.e2e.conftest import Cluster, api, cluster, operator  # noqa: F401
from tests.e2e.operator import OperatorProcess
from tests.e2e.test_operator import create, minimal
from tests.e2e.wait import wait_for
from tests.integration.data.patroni_harness import Member, wait_until

from .harness import BUCKET, STANZA, Node, S3Endpoint, own_tree

pytestmark = pytest.mark.integration
NAME = "restored"


def kubeconfig_for(cluster: Cluster, namespace: str) -> str:  # noqa: F811
    """A kubeconfig with the token of the ServiceAccount the operator rendered for Patroni."""
    account = f"{NAME}-postgres"
    token = cluster.kubectl("create", "token", account, "-n", namespace,
                            "--duration=1h").stdout.strip()
    server = yaml.safe_load(cluster.kubeconfig.read_text())["clusters"][0]["cluster"]
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "patroni",
        "clusters": [{"name": "local", "cluster": server}],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": "patroni", "context": {"cluster": "local", "user": account}}]})


def test_patroni_bootstraps_a_new_cluster_from_a_point_in_time(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,  # noqa: F811
        node: Node, s3: S3Endpoint) -> None:
    node.sql("CREATE TABLE pitr (id int PRIMARY KEY)")
    node.sql("INSERT INTO pitr SELECT generate_series(1, 50)")
    done = node.backup("full", node.root / "patroni-full.json")
    assert done.returncode == 0, done.stderr
    node.sql("INSERT INTO pitr SELECT generate_series(51, 100)")
    time.sleep(1.1)
    target = node.sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")[0][0]
    time.sleep(1.1)
    node.sql("INSERT INTO pitr SELECT generate_series(101, 150)")
    node.wait_archived()

    core = client.CoreV1Api(api)
    namespace = f"pitr-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=namespace, labels={"pod-security.kubernetes.io/enforce": "restricted"})))
    member = Member(f"{NAME}-postgres-0", node.root / "patroni")
    try:
        create(api, minimal(namespace, name=NAME, bootstrap={"recovery": {
            "targetTime": target,
            "source": {"stanza": STANZA, "s3": {
                "bucket": BUCKET, "endpoint": f"https://127.0.0.1:{s3.port}", "path": "/tcc",
                "verifyTls": False, "credentialsSecretRef": {"name": "s3-creds"}}}}}))
        wait_for(lambda: [p for p in core.list_namespaced_pod(
            namespace, label_selector="app.kubernetes.io/component=postgres").items
            if p.status.phase == "Running"], timeout=90, what="the member pod (KWOK)")
        rendered = core.read_namespaced_config_map(f"{NAME}-postgres-patroni", namespace).data
        pgbackrest = core.read_namespaced_config_map(f"{NAME}-pgbackrest", namespace).data
        secret = core.read_namespaced_secret(f"{NAME}-postgres-credentials", namespace).data
        passwords = {k: base64.b64decode(v).decode() for k, v in secret.items()}

        # Paths only: the pod's mounts become this member's directories.
        root = member.root
        swaps = [(CONFIG_MOUNT, str(root / "pgbackrest")), (SPOOL_PATH, str(root / "spool")),
                 (LOCK_PATH, str(root / "lock")), (POD_PATHS.data_dir, str(root / "data")),
                 (POD_PATHS.socket_dir, str(root / "socket"))]

        def localize(text: str) -> str:
            for old, new in swaps:
                text = text.replace(old, new)
            return text

        config: dict[str, Any] = yaml.safe_load(localize(rendered["patroni.yaml"]))
        for sub in ("pgbackrest", "spool", "lock", "socket"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for name, text in pgbackrest.items():
            (root / "pgbackrest" / name).write_text(localize(text))
        member.write_files(config, rendered["post-bootstrap.sh"], kubeconfig_for(
            cluster, namespace), "patroni", {
            "PATRONI_NAME": member.name, "PATRONI_KUBERNETES_NAMESPACE": namespace,
            "PATRONI_SUPERUSER_PASSWORD": passwords["superuser-password"],
            "PATRONI_REPLICATION_PASSWORD": passwords["replication-password"],
            "TCCLOG_APP_PASSWORD": passwords["app-password"],
            "TCCLOG_READONLY_PASSWORD": passwords["readonly-password"],
            # The pod gets these from the source's credentialsSecretRef.
            "TCCLOG_RECOVERY_S3_KEY": "testing", "TCCLOG_RECOVERY_S3_KEY_SECRET": "testing"})
        own_tree(root)
        member.start()

        def primary() -> bool:
            status, body = member.api("/patroni")
            return status == 200 and body.get("role") in ("primary", "master") and (
                body.get("state") == "running")

        wait_until(primary, timeout=180, what="the recovered member to run as primary")
        dsn = (f"host=127.0.0.1 port={member.pg_port} user=postgres "
               f"password={passwords['superuser-password']} dbname=postgres")
        with psycopg.connect(dsn, autocommit=True) as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM pitr ORDER BY id").fetchall()]
            assert ids == list(range(1, 101))  # exactly what was committed before targetTime
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        # The post-bootstrap script ran on the recovered database: this TccLog's app role.
        app = (f"host=127.0.0.1 port={member.pg_port} user=tcclog "
               f"password={passwords['app-password']} dbname=tcclog")

        def app_login() -> Any:
            # Patroni swaps its temporary bootstrap pg_hba for the rendered one at the end.
            with psycopg.connect(app, connect_timeout=2) as conn:
                return conn.execute("SELECT current_user").fetchone()

        assert wait_until(app_login, timeout=60, what="the app role to log in") == ("tcclog",)
    except BaseException:
        print(f"--- {member.name}\n{member.log_tail()}")  # noqa: T201 - failure context
        raise
    finally:
        member.stop()
        core.delete_namespace(namespace)
