"""Operator start-up: settings, API client, the children's watches and kopf tuning, kept
in `memo`; and their end."""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf
from prometheus_client import start_http_server

from ..connection import environment_connection
from ..desired import DesiredChildren
from ..kube import CHILD_RESOURCES, Kube
from ..render import MANAGED_BY_SELECTOR
from ..render.meta import COMPONENT_LABEL
from ..render.patroni import COMPONENT as POSTGRES_COMPONENT
from ..sentinel import SentinelProbe
from ..settings import OperatorSettings
from ..watches import ApiReader, ChildWatches
from .children import on_child_change
from .holds import Holds
from .run import PrometheusProbe

# Of the pods only PostgreSQL's matter (Patroni's role labels feed status.postgres);
# the backend's and Redis' would triple the pod events, each a whole Pod, for nothing.
WATCH_SELECTORS = {
    resource.plural: MANAGED_BY_SELECTOR for resource in CHILD_RESOURCES
} | {"pods": f"{MANAGED_BY_SELECTOR},{COMPONENT_LABEL}={POSTGRES_COMPONENT}"}
SERVER_TIMEOUT_SECONDS = 300


@kopf.on.login()
def login(**_: Any) -> kopf.ConnectionInfo:
    """kopf's own requests (TccLogs, peering, events) go with the operator's credentials."""
    connection = environment_connection()
    return kopf.ConnectionInfo(
        server=connection.server, ca_path=connection.ca_file, insecure=connection.insecure,
        certificate_path=connection.cert_file, private_key_path=connection.key_file,
        token=connection.bearer_token(), default_namespace=connection.namespace)


@kopf.on.startup()
async def configure(*, settings: kopf.OperatorSettings, memo: Any, logger: kopf.Logger,
                    **_: Any) -> None:
    operator = memo.get("operator_settings") or OperatorSettings()
    memo.operator = operator
    connection = environment_connection()
    memo.kube = Kube(connection, operator.field_manager, pool_size=operator.max_workers)
    memo.holds = Holds()  # the TccLogs this replica acts for (holds.py)
    memo.locks = defaultdict(threading.Lock)  # one reconcile at a time per TccLog
    memo.slots = {}  # uid -> ReconcileSlot: events during a reconcile coalesce (run.py)
    memo.last_status = {}  # uid -> last status we wrote, packed (the watch may lag behind)
    memo.desired = DesiredChildren()  # uid -> last render, reused while its inputs hold
    # uid -> {(kind, name): (revision, packed object) our last apply returned}, kept until
    # the watch delivers that revision (children.py)
    memo.applied = defaultdict(dict)
    memo.patroni_synced = {}  # uid -> generation whose spec Patroni's DCS config follows
    memo.leaders = {}  # uid -> last known primary/master, across leaderless moments
    memo.observed = {}  # Pod/Job uid -> what of it matters to status (children.py)
    memo.prometheus = PrometheusProbe(memo.kube, operator.discovery_interval_seconds)
    memo.sentinels = SentinelProbe(operator.sentinel_interval_seconds)

    # kopf's bookkeeping goes to annotations, never into our status.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="tcclog.com")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="tcclog.com", key="last-handled-configuration")
    # Events record transitions we post explicitly; log lines stay in the log.
    settings.posting.loggers = False
    # Each watched kind has at most `worker_limit` objects in processing at once. kopf keeps
    # an object's worker for 5 s after its last event; a shorter linger (0.5 s) handled
    # events sooner, but made more reconciles and status writes and was slower at 1,000
    # TccLogs (README, Benchmarks), so kopf's default stays.
    settings.queueing.worker_limit = operator.worker_limit
    # Reconciles are synchronous (the kubernetes client); they run in these threads,
    # whether kopf calls a handler or a child event asks for one (run.request_reconcile).
    memo.executor = ThreadPoolExecutor(operator.max_workers, thread_name_prefix="reconcile")
    settings.execution.executor = memo.executor
    settings.networking.request_timeout = 60
    settings.watching.server_timeout = SERVER_TIMEOUT_SECONDS

    # Only our children are watched, filtered by label on the API server.
    memo.watches = ChildWatches(
        CHILD_RESOURCES, operator.namespaces, WATCH_SELECTORS,
        ApiReader(connection, SERVER_TIMEOUT_SECONDS),
        lambda event_type, body: on_child_change(event_type, body, memo),
        server_timeout=SERVER_TIMEOUT_SECONDS,
        absent_retry=operator.discovery_interval_seconds)
    memo.children = memo.watches.store
    memo.watches.start()

    if operator.metrics_port:
        start_http_server(operator.metrics_port)
    logger.info("tcclog-operator configured (field manager %s, namespaces %s)",
                operator.field_manager, operator.namespaces or "all")


@kopf.on.cleanup()
async def stop_watches(*, memo: Any, **_: Any) -> None:
    if "watches" in memo:
        await memo.watches.stop()
