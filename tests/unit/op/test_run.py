"""Coalescing of reconciles (handlers/run.py), with the reconcile itself replaced."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from tcclog_operator.handlers import run
from tcclog_operator.handlers.holds import Hold, Holds

LOGGER = logging.getLogger("test-run")


def _body(generation: int) -> dict[str, Any]:
    return {"metadata": {"namespace": "tcc", "name": "demo", "uid": "u1",
                         "generation": generation}}


class _Reconciles:
    """Stands in for _reconcile_once: records (trigger, generation); the first call
    waits until released, so requests can arrive while it runs."""

    def __init__(self, fail_first: bool = False) -> None:
        self.calls: list[tuple[str, int]] = []
        self.started, self.release = threading.Event(), threading.Event()
        self.fail_first = fail_first

    def __call__(self, body: Any, memo: Any, logger: Any, *, trigger: str) -> None:
        self.calls.append((trigger, body["metadata"]["generation"]))
        if len(self.calls) == 1:
            self.started.set()
            assert self.release.wait(10)
            if self.fail_first:
                raise RuntimeError("API server unavailable")


@pytest.fixture
def memo() -> Any:
    with ThreadPoolExecutor(2) as executor:
        yield SimpleNamespace(slots={}, executor=executor, holds=Holds())


def _hold(memo: Any, body: dict[str, Any]) -> None:
    """The TccLog as kopf last delivered it, held by this replica."""
    memo.holds.take(Hold(body, LOGGER))


def _wait_idle(memo: Any) -> None:
    memo.executor.submit(lambda: None).result(10)  # the worker queue is first in, first out
    for _ in range(1000):
        if not memo.slots["u1"].busy:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the reconcile slot stayed busy")


def test_requests_during_a_reconcile_cost_one_more_round_on_the_latest_body(
        memo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reconciles = _Reconciles()
    monkeypatch.setattr(run, "_reconcile_once", reconciles)
    _hold(memo, _body(2))  # the watch has delivered generation 2 meanwhile
    run.request_reconcile(_body(1), memo, LOGGER, trigger="child")
    assert reconciles.started.wait(10)
    for _ in range(30):
        run.request_reconcile(_body(1), memo, LOGGER, trigger="child")
    reconciles.release.set()
    _wait_idle(memo)
    assert reconciles.calls == [("child", 1), ("coalesced", 2)]


def test_a_failed_reconcile_is_logged_and_frees_the_slot(
        memo: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    reconciles = _Reconciles(fail_first=True)
    monkeypatch.setattr(run, "_reconcile_once", reconciles)
    _hold(memo, _body(1))
    run.request_reconcile(_body(1), memo, LOGGER, trigger="observed")
    reconciles.release.set()
    _wait_idle(memo)
    assert "reconcile (observed) failed: API server unavailable" in caplog.text
    run.request_reconcile(_body(1), memo, LOGGER, trigger="observed")
    _wait_idle(memo)
    assert reconciles.calls == [("observed", 1), ("observed", 1)]


def test_a_tcclog_no_longer_held_ends_the_rounds(
        memo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reconciles = _Reconciles()
    monkeypatch.setattr(run, "_reconcile_once", reconciles)
    run.request_reconcile(_body(1), memo, LOGGER, trigger="child")
    assert reconciles.started.wait(10)
    run.request_reconcile(_body(1), memo, LOGGER, trigger="child")
    reconciles.release.set()
    _wait_idle(memo)
    assert reconciles.calls == [("child", 1)]
