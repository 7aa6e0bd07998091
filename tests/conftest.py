"""Marks each test by its folder, so `pytest -m unit|integration|e2e` selects a layer."""

from __future__ import annotations

from pathlib import Path

import pytest

_TESTS = Path(__file__).parent
_LAYERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            layer = Path(item.path).relative_to(_TESTS).parts[0]
        except ValueError:
            continue
        if layer in _LAYERS:
            item.add_marker(getattr(pytest.mark, layer))
