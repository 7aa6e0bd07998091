from __future__ import annotations

from types import SimpleNamespace

from tcclog.core.middleware import route_template


def test_route_template_rebuilds_the_full_template_from_an_included_route() -> None:
    scope = {"path": "/api/v1/entries/42", "route": SimpleNamespace(path="/entries/{entry_id}")}
    assert route_template(scope) == "/api/v1/entries/{entry_id}"
    scope = {"path": "/api/v1/files/7/content",
             "route": SimpleNamespace(path="/files/{file_id}/content")}
    assert route_template(scope) == "/api/v1/files/{file_id}/content"
    assert route_template({"path": "/healthz", "route": SimpleNamespace(path="/healthz")}) == (
        "/healthz")


def test_unmatched_paths_get_one_bounded_label() -> None:
    assert route_template({"path": "/no/such/thing/123"}) == "unmatched"
