"""Kopf handlers of TccLogBackup: thin wrappers around backup_request.converge_backup_request.

A request is converged when it appears (create/resume) and on every event of its Job
(children.py routes those here), under the same per-object lock discipline as TccLogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import kopf

from ..backup_request import converge_backup_request
from ..models.tcclog import VERSION
from ..models.tcclogbackup import BACKUP_PLURAL, GROUP

TCCLOGBACKUPS = (GROUP, VERSION, BACKUP_PLURAL)


def _converge(body: Mapping[str, Any], memo: Any, logger: kopf.Logger) -> None:
    with memo.locks[body["metadata"]["uid"]]:
        outcome = converge_backup_request(memo.kube, body, memo.operator.render_settings())
    if outcome.event is not None:
        kind, reason, message = outcome.event
        kopf.event(kopf.Body(cast(kopf.RawBody, dict(body))), type=kind, reason=reason,
                   message=message)
        logger.info("backup %s: %s", body["metadata"]["name"], message)


@kopf.on.resume(*TCCLOGBACKUPS)
@kopf.on.create(*TCCLOGBACKUPS)
def start_backup(*, body: kopf.Body, memo: Any, logger: kopf.Logger, **_: Any) -> None:
    _converge(body, memo, logger)


def converge_request_of_job(namespace: str, name: str, memo: Any, logger: kopf.Logger) -> None:
    """A Job of a TccLogBackup changed: read the request (it is small) and converge it."""
    body = memo.kube.get("TccLogBackup", namespace, name)
    if body is not None and not body["metadata"].get("deletionTimestamp"):
        _converge(body, memo, logger)
