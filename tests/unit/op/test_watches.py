"""The children's list+watch (watches.py): the store, the stream's line splitting, and
relists and watch events against a scripted API (the real one is in the e2e suite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tcclog_operator.kube import BY_KIND
from tcclog_operator.render.meta import INSTANCE_LABEL
from tcclog_operator.watches import ChildStore, ChildWatch, NotServed, split_lines

SCOPE = ("configmaps", "tcc")


def _config_map(name: str, version: str, instance: str = "demo") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "data": {"v": version},
            "metadata": {"namespace": "tcc", "name": name, "uid": f"uid-{name}",
                         "resourceVersion": version, "labels": {INSTANCE_LABEL: instance},
                         "managedFields": [{"manager": "x"}]}}


def test_the_store_files_children_by_tcclog_and_tells_what_is_new() -> None:
    store = ChildStore([SCOPE])
    assert store.put(_config_map("a", "1")) == "ADDED"
    assert store.put(_config_map("a", "1")) is None  # the same version again
    assert store.put(_config_map("a", "2")) == "MODIFIED"
    assert store.put(_config_map("b", "3", instance="other")) == "ADDED"
    found = store.of("tcc", "demo")
    assert list(found) == [("ConfigMap", "a")]
    assert found[("ConfigMap", "a")]["data"] == {"v": "2"}
    assert "managedFields" not in found[("ConfigMap", "a")]["metadata"]
    assert store.names("ConfigMap", "tcc") == {("tcc", "a"), ("tcc", "b")}
    assert store.names("Secret", None) == set()


def test_a_child_whose_instance_label_changes_moves_to_its_new_tcclog() -> None:
    store = ChildStore([SCOPE])
    store.put(_config_map("a", "1"))
    assert store.put(_config_map("a", "2", instance="other")) == "MODIFIED"
    assert store.of("tcc", "demo") == {}
    assert list(store.of("tcc", "other")) == [("ConfigMap", "a")]
    removed = store.remove("ConfigMap", "tcc", "a")
    assert removed is not None and removed["metadata"]["uid"] == "uid-a"
    assert store.of("tcc", "other") == {} and store.remove("ConfigMap", "tcc", "a") is None


def test_the_store_is_listed_once_every_scope_is() -> None:
    store = ChildStore([SCOPE, ("secrets", "tcc")])
    store.mark_listed(SCOPE)
    assert not store.wait_listed(0)
    store.mark_listed(("secrets", "tcc"))
    assert store.wait_listed(0)


def test_watch_lines_are_split_across_chunks() -> None:
    buffer = bytearray()
    assert split_lines(buffer, b'{"a":') == []
    assert split_lines(buffer, b'1}\n{"b"') == [b'{"a":1}']
    assert split_lines(buffer, b':2}\n\n{"c":3}\n') == [b'{"b":2}', b'{"c":3}']
    assert buffer == bytearray()


class _ScriptedApi:
    """Answers list pages and watch streams from a script, in order."""

    def __init__(self, pages: list[Any], streams: list[list[dict[str, Any]]]) -> None:
        self.pages, self.streams = pages, streams
        self.requests: list[dict[str, str]] = []

    async def get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        self.requests.append(dict(params))
        page = self.pages.pop(0)
        if isinstance(page, Exception):
            raise page
        return dict(page)

    async def events(self, path: str, params: Mapping[str, str]
                     ) -> AsyncIterator[dict[str, Any]]:
        self.requests.append(dict(params))
        if not self.streams:
            await asyncio.Event().wait()  # the script is over: a quiet watch
        for event in self.streams.pop(0):
            yield event


def _page(version: str, *items: dict[str, Any], more: str | None = None) -> dict[str, Any]:
    listed = [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")}
              for item in items]
    return {"metadata": {"resourceVersion": version, **({"continue": more} if more else {})},
            "items": listed}


async def _run(api: _ScriptedApi, store: ChildStore, until: int) -> list[tuple[str, str]]:
    """Run one watch until `until` changes were delivered; the (type, name) of each."""
    changes: list[tuple[str, str]] = []
    done = asyncio.Event()

    def on_change(event_type: str, obj: Mapping[str, Any]) -> None:
        changes.append((event_type, obj["metadata"]["name"]))
        if len(changes) >= until:
            done.set()

    watch = ChildWatch(BY_KIND["ConfigMap"], "tcc", "sel", store, on_change,
                       api, server_timeout=300, absent_retry=0.01)  # type: ignore[arg-type]
    task = asyncio.create_task(watch.run())
    try:
        await asyncio.wait_for(done.wait(), 5)
    finally:
        task.cancel()
    return changes


def test_a_relist_after_410_delivers_what_changed_and_what_went_away() -> None:
    store = ChildStore([SCOPE])
    api = _ScriptedApi(
        pages=[_page("10", _config_map("a", "1"), more="page2"),
               _page("10", _config_map("b", "2")),
               # after 410: a is unchanged, b was deleted, c was created meanwhile
               _page("30", _config_map("a", "1"), _config_map("c", "25"))],
        streams=[[{"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "12"}}},
                  {"type": "MODIFIED", "object": _config_map("a", "1")},  # nothing new
                  {"type": "ERROR", "object": {"code": 410, "message": "too old"}}]])
    changes = asyncio.run(_run(api, store, until=4))
    assert changes == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c"), ("DELETED", "b")]
    assert api.requests[1]["continue"] == "page2"
    assert api.requests[2]["resourceVersion"] == "10" and api.requests[2]["watch"] == "true"
    assert set(store.of("tcc", "demo")) == {("ConfigMap", "a"), ("ConfigMap", "c")}
    assert store.wait_listed(0)


def test_watch_events_follow_on_from_the_last_version_seen() -> None:
    store = ChildStore([SCOPE])
    api = _ScriptedApi(
        pages=[_page("10", _config_map("a", "1"))],
        streams=[[{"type": "MODIFIED", "object": _config_map("a", "11")}],
                 [{"type": "DELETED", "object": _config_map("a", "12")}]])
    changes = asyncio.run(_run(api, store, until=3))
    assert changes == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    assert [r.get("resourceVersion") for r in api.requests[1:3]] == ["10", "11"]
    assert store.of("tcc", "demo") == {}


def test_a_kind_the_server_does_not_serve_counts_as_listed_and_is_asked_again() -> None:
    store = ChildStore([SCOPE])
    api = _ScriptedApi(pages=[NotServed("/apis/monitoring.coreos.com/v1"),
                              _page("5", _config_map("a", "1"))], streams=[])
    assert asyncio.run(_run(api, store, until=1)) == [("ADDED", "a")]
    assert store.wait_listed(0)
