"""Which TccLogs this replica acts for: those whose kopf daemon (tcclog.py) it runs.

kopf stops every daemon when peering pauses the operator for another replica, and
starts them again on resume; it starts a TccLog's daemon before its create/resume
handlers and stops it before deletion. So a held TccLog is exactly one this replica
may reconcile, and child events (watches.py, outside kopf) reconcile held ones only.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf


@dataclass(frozen=True)
class Hold:
    body: Mapping[str, Any]  # kopf's live body of the TccLog: it follows every watch event
    logger: kopf.Logger
    # kopf's context: kopf.event() finds its queue there, from any thread.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)

    @property
    def uid(self) -> str:
        uid: str = self.body["metadata"]["uid"]
        return uid


class Holds:
    """Held TccLogs by (namespace, name). Changed in the event loop, read anywhere."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], Hold] = {}

    def take(self, hold: Hold) -> None:
        self._held[_key(hold.body)] = hold

    def release(self, hold: Hold) -> None:
        if self._held.get(_key(hold.body)) is hold:
            del self._held[_key(hold.body)]

    def get(self, namespace: str, name: str, uid: str | None = None) -> Hold | None:
        """The hold of that TccLog (and, if given, of that uid: a namesake recreated
        meanwhile is another object)."""
        hold = self._held.get((namespace, name))
        return hold if hold is not None and uid in (None, hold.uid) else None


def _key(body: Mapping[str, Any]) -> tuple[str, str]:
    return body["metadata"]["namespace"], body["metadata"]["name"]
