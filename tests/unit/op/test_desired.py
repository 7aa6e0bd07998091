"""DesiredChildren: the last render is reused exactly while its inputs are the same."""

from __future__ import annotations

from typing import Any

import pytest

from tcclog_operator import desired as desired_module
from tcclog_operator import drift
from tcclog_operator.desired import DesiredChildren
from tcclog_operator.render import RenderSettings, fill_secret_values, render

from .conftest import counter_generator, make

SETTINGS = RenderSettings()


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the TccLogs actually rendered (not served from the cache)."""
    seen: list[str] = []

    def counting_render(tcclog: Any, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        seen.append(tcclog.metadata.name)
        return render(tcclog, *args, **kwargs)

    monkeypatch.setattr(desired_module, "render", counting_render)
    return seen


def _values(tcclog: Any) -> dict[str, dict[str, str]]:
    return fill_secret_values(tcclog, {}, generate=counter_generator())


def test_same_inputs_render_once_and_equal_a_fresh_stamped_render(renders: list[str]) -> None:
    cache, tcclog = DesiredChildren(), make({})
    values = _values(tcclog)
    first = cache.of(tcclog, SETTINGS, secret_values=values, prometheus_crds_present=False)
    again = cache.of(tcclog, SETTINGS, secret_values=values, prometheus_crds_present=False)
    fresh = [drift.stamp(obj) for obj in render(tcclog, SETTINGS, secret_values=values)]
    assert renders == ["demo"]
    assert first == again == fresh
    again[0]["metadata"]["name"] = "changed by a caller"
    assert cache.of(tcclog, SETTINGS, secret_values=values,
                    prometheus_crds_present=False)[0] == fresh[0]


@pytest.mark.parametrize("change", ["generation", "secret", "prometheus", "settings", "forget"])
def test_any_changed_input_renders_again(renders: list[str], change: str) -> None:
    cache, tcclog = DesiredChildren(), make({"backend": {"replicas": 2}})
    values = _values(tcclog)
    before = cache.of(tcclog, SETTINGS, secret_values=values, prometheus_crds_present=False)
    settings, prometheus = SETTINGS, False
    if change == "generation":
        tcclog = make({"backend": {"replicas": 3}}, generation=2)
    elif change == "secret":
        secret, keys = next(iter(values.items()))
        values = {**values, secret: {**keys, next(iter(keys)): "rotated by hand"}}
    elif change == "prometheus":
        prometheus = True
    elif change == "settings":
        settings = RenderSettings(redis_image="registry.example/redis:8")
    else:
        cache.forget("0000-uid")
    after = cache.of(tcclog, settings, secret_values=values,
                     prometheus_crds_present=prometheus)
    assert renders == ["demo", "demo"]
    assert (after == before) == (change == "forget")


def test_tcclogs_are_kept_apart(renders: list[str]) -> None:
    cache = DesiredChildren()
    one, two = make({}, name="one", uid="uid-1"), make({}, name="two", uid="uid-2")
    for tcclog in (one, two, one, two):
        cache.of(tcclog, SETTINGS, secret_values=_values(tcclog), prometheus_crds_present=False)
    assert renders == ["one", "two"]
