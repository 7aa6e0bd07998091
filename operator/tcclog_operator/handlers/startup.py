"""Operator start-up: settings, API client and kopf tuning, kept in `memo`."""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf
from prometheus_client import start_http_server

from ..desired import DesiredChildren
from ..kube import CHILD_RESOURCES, Kube, api_client_from_environment
from ..render import MANAGED_BY_SELECTOR
from ..render.meta import COMPONENT_LABEL
from ..render.patroni import COMPONENT as POSTGRES_COMPONENT
from ..sentinel import SentinelProbe
from ..settings import OperatorSettings
from .run import PrometheusProbe

# Of the pods only PostgreSQL's matter (Patroni's role labels feed status.postgres);
# the backend's and Redis' would triple the pod events, each a whole Pod, for nothing.
WATCH_SELECTORS = {
    "pods": f"{MANAGED_BY_SELECTOR},{COMPONENT_LABEL}={POSTGRES_COMPONENT}",
}


@kopf.on.startup()
def configure(*, settings: kopf.OperatorSettings, memo: Any, logger: kopf.Logger,
              **_: Any) -> None:
    operator = memo.get("operator_settings") or OperatorSettings()
    memo.operator = operator
    memo.kube = Kube(api_client_from_environment(), operator.field_manager)
    memo.locks = defaultdict(threading.Lock)  # one reconcile at a time per TccLog
    memo.slots = {}  # uid -> ReconcileSlot: events during a reconcile coalesce (run.py)
    memo.last_status = {}  # uid -> last status we wrote (the watch may lag behind it)
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
    # Watch only our children: the API server filters, not this process.
    for resource in CHILD_RESOURCES:
        selector = (resource.api_version, resource.plural)
        settings.watching.label_selectors[selector] = WATCH_SELECTORS.get(
            resource.plural, MANAGED_BY_SELECTOR)
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
    settings.watching.server_timeout = 300

    if operator.metrics_port:
        start_http_server(operator.metrics_port)
    logger.info("tcclog-operator configured (field manager %s, namespaces %s)",
                operator.field_manager, operator.namespaces or "all")
