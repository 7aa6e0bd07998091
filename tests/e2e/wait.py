"""Polling with a deadline: e2e tests wait for the cluster to converge, never sleep blindly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], *, timeout: float = 60, interval: float = 0.5,
             what: str = "condition") -> T:
    """Call `probe` until it returns something truthy; return it, or fail after `timeout` s.

    Exceptions from the probe count as "not yet" (objects may not exist yet); the last
    one is reported if the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            result = probe()
            if result:
                return result
            last = result
        except Exception as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last!r}")
        time.sleep(interval)
