"""The operator's own list+watch of the children: a packed copy of each, by the TccLog
it belongs to, and a callback on every change.

kopf keeps state for every object it watches (a copy of the memo, a throttler, indexing
and daemon memories: ~3 KiB each). 1,000 TccLogs have ~28,000 children, ~100 MB of
that, and the children need none of it: reconcile wants their current form, and a
word when one changes. kopf still runs everything about the TccLogs themselves.

The store is written in the event loop and read by reconcile threads, hence its lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from . import packing
from .connection import Connection
from .kube import ApiError, Resource
from .render.meta import INSTANCE_LABEL

logger = logging.getLogger(__name__)

OwnerKey = tuple[str, str]  # (namespace, TccLog name: the child's instance label)
ChildKey = tuple[str, str]  # (kind, name)
Scope = tuple[str, str | None]  # (plural, namespace or None for the whole cluster)
#: Called in the event loop with ADDED, MODIFIED or DELETED and the object.
OnChange = Callable[[str, Mapping[str, Any]], None]
PAGE_SIZE = 500


class ChildStore:
    """The children as the watches last delivered them, packed (packing.py)."""

    def __init__(self, scopes: Iterable[Scope]) -> None:
        self._lock = threading.Lock()
        # Both maps key a child by the same (kind, namespace, name) tuple object.
        self._by_owner: dict[OwnerKey, dict[tuple[str, str, str], bytes]] = {}
        # (kind, namespace, name) -> (instance label, resourceVersion): where a child is
        # filed, and whether an event brings anything new. Kinds, namespaces and instance
        # labels are interned: ~30,000 children share a few hundred of them (~6 MiB).
        self._filed: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._unlisted = set(scopes)
        self._listed = threading.Event()
        if not self._unlisted:
            self._listed.set()

    def put(self, obj: Mapping[str, Any]) -> str | None:
        """File `obj`; ADDED or MODIFIED, or None if this version was filed already."""
        metadata = obj["metadata"]
        kind, namespace = sys.intern(obj["kind"]), sys.intern(metadata["namespace"])
        where = (kind, namespace, metadata["name"])
        filing = (sys.intern((metadata.get("labels") or {}).get(INSTANCE_LABEL, "")),
                  metadata.get("resourceVersion", ""))
        before = self._filed.get(where)
        if before == filing:
            return None  # a relist repeats every object: pack only what changed
        data = packing.packed(obj)  # only the event loop files, so `before` still holds
        with self._lock:
            if before is not None and before[0] != filing[0]:  # its instance label was edited
                self._unfile(where, before[0])
            self._by_owner.setdefault((namespace, filing[0]), {})[where] = data
            self._filed[where] = filing
        return "ADDED" if before is None else "MODIFIED"

    def remove(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """Forget a child; the last filed form, or None if it was not filed."""
        where = (kind, namespace, name)
        with self._lock:
            before = self._filed.pop(where, None)
            if before is None:
                return None
            data = self._unfile(where, before[0])
        return packing.unpacked(data) if data is not None else None

    def _unfile(self, where: tuple[str, str, str], instance: str) -> bytes | None:
        owner = (where[1], instance)
        children = self._by_owner.get(owner, {})
        data = children.pop(where, None)
        if not children:
            self._by_owner.pop(owner, None)
        return data

    def names(self, kind: str, namespace: str | None) -> set[tuple[str, str]]:
        """(namespace, name) of every filed child of `kind` (in `namespace`, if given)."""
        with self._lock:
            return {(ns, name) for (k, ns, name) in self._filed
                    if k == kind and namespace in (None, ns)}

    def of(self, namespace: str, instance: str) -> dict[ChildKey, dict[str, Any]]:
        """The children filed under one TccLog, unpacked."""
        with self._lock:
            packed = dict(self._by_owner.get((namespace, instance), {}))
        return {(kind, name): packing.unpacked(data) for (kind, _, name), data in packed.items()}

    def mark_listed(self, scope: Scope) -> None:
        with self._lock:
            self._unlisted.discard(scope)
            if not self._unlisted:
                self._listed.set()

    def wait_listed(self, timeout: float) -> bool:
        """Whether every watch has listed once: before that, a missing child may only be
        unlisted yet, and a reconcile would apply all of it again."""
        return self._listed.wait(timeout)


class NotServed(Exception):
    """404 on a collection: the API (e.g. the Prometheus Operator CRDs) is not installed."""


def split_lines(buffer: bytearray, chunk: bytes) -> list[bytes]:
    """Append `chunk` to `buffer`; take out and return the complete lines (a watch
    stream is one JSON event per line, and one event may span many chunks)."""
    buffer.extend(chunk)
    end = buffer.rfind(b"\n")
    if end < 0:
        return []
    lines = bytes(buffer[:end]).split(b"\n")
    del buffer[:end + 1]
    return [line for line in lines if line.strip()]


class ApiReader:
    """GET and watch requests, in the event loop."""

    def __init__(self, connection: Connection, read_timeout: float) -> None:
        self._connection = connection
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    def _request(self, path: str, params: Mapping[str, str],
                 timeout: aiohttp.ClientTimeout) -> Any:
        if self._session is None:
            # No connection limit: every watch holds one for its whole life.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                limit=0, ssl=self._connection.ssl_context() or False))
        # Headers per request: in a pod the service account token is reread (rotation).
        return self._session.get(self._connection.server + path, params=dict(params),
                                 headers=self._connection.headers(), timeout=timeout)

    @staticmethod
    async def _check(response: aiohttp.ClientResponse) -> None:
        if response.status == 404:
            raise NotServed(str(response.url))
        if response.status >= 300:
            raise ApiError(response.status, await response.text())

    async def get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=self._read_timeout)
        async with self._request(path, params, timeout) as response:
            await self._check(response)
            answer: dict[str, Any] = json.loads(await response.read())
            return answer

    async def events(self, path: str, params: Mapping[str, str]
                     ) -> AsyncIterator[dict[str, Any]]:
        # The server ends a watch after timeoutSeconds; a silent socket beyond that is dead.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30,
                                        sock_read=self._read_timeout + 60)
        async with self._request(path, params, timeout) as response:
            await self._check(response)
            buffer = bytearray()
            async for chunk in response.content.iter_any():
                for line in split_lines(buffer, chunk):
                    yield json.loads(line)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


@dataclass
class ChildWatch:
    """One kind in one namespace (or the whole cluster), kept current in the store."""

    resource: Resource
    namespace: str | None
    selector: str
    store: ChildStore
    on_change: OnChange
    reader: ApiReader
    server_timeout: int
    absent_retry: float  # how soon to look again for a kind the API server does not serve

    @property
    def scope(self) -> Scope:
        return self.resource.plural, self.namespace

    def _path(self) -> str:
        return self.resource.collection_path(self.namespace)

    async def run(self) -> None:
        version: str | None = None
        backoff = 1.0
        while True:
            try:
                if version is None:
                    version = await self._relist()
                version = await self._watch(version)
                backoff = 1.0
            except NotServed:
                self.store.mark_listed(self.scope)  # nothing to wait for
                version = None
                await asyncio.sleep(self.absent_retry)
            except (aiohttp.ClientError, TimeoutError, ApiError, ValueError) as error:
                logger.warning("watch of %s in %s: %s; again in %.0f s", self.resource.plural,
                               self.namespace or "all namespaces", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def _relist(self) -> str:
        """List page by page; what was filed but is no longer listed was deleted while
        no watch ran. The resourceVersion to watch from."""
        seen: set[tuple[str, str]] = set()
        params = {"labelSelector": self.selector, "limit": str(PAGE_SIZE)}
        while True:
            page = await self.reader.get(self._path(), params)
            for item in page.get("items") or []:
                # List items carry no kind; watch events do.
                item = {"kind": self.resource.kind, "apiVersion": self.resource.api_version,
                        **item}
                seen.add((item["metadata"]["namespace"], item["metadata"]["name"]))
                self._deliver("ADDED", item)
            if not page["metadata"].get("continue"):
                break
            params["continue"] = page["metadata"]["continue"]
        for namespace, name in self.store.names(self.resource.kind, self.namespace) - seen:
            self._deliver("DELETED", {"kind": self.resource.kind,
                                      "metadata": {"namespace": namespace, "name": name}})
        self.store.mark_listed(self.scope)
        version: str = page["metadata"]["resourceVersion"]
        return version

    async def _watch(self, version: str) -> str | None:
        """Follow changes until the server ends the watch; the version to go on from, or
        None when it is too old (410 Gone: list again)."""
        params = {"labelSelector": self.selector, "watch": "true",
                  "resourceVersion": version, "allowWatchBookmarks": "true",
                  "timeoutSeconds": str(self.server_timeout)}
        async for event in self.reader.events(self._path(), params):
            obj = event.get("object") or {}
            if event.get("type") == "ERROR":
                if obj.get("code") == 410:
                    return None
                raise ApiError(int(obj.get("code") or 0), str(obj.get("message")))
            version = obj["metadata"]["resourceVersion"]
            if event.get("type") != "BOOKMARK":
                self._deliver(str(event.get("type")), obj)
        return version

    def _deliver(self, event_type: str, obj: Mapping[str, Any]) -> None:
        metadata = obj["metadata"]
        change: str | None = event_type
        if event_type == "DELETED":
            last = self.store.remove(obj["kind"], metadata["namespace"], metadata["name"])
            if "uid" not in metadata:  # a relist found it gone: tell with its last form
                if last is None:
                    return
                obj = last
        else:
            change = self.store.put(obj)
        if change is None:
            return
        try:
            self.on_change(change, obj)
        except Exception:  # one bad event must not end the watch of a whole kind
            logger.exception("handling %s of %s %s/%s", change, obj["kind"],
                             metadata["namespace"], metadata["name"])


class ChildWatches:
    """Every child kind watched in every namespace the operator serves."""

    def __init__(self, resources: Iterable[Resource], namespaces: Iterable[str],
                 selectors: Mapping[str, str], reader: ApiReader, on_change: OnChange, *,
                 server_timeout: int, absent_retry: float) -> None:
        where: list[str | None] = [*namespaces] or [None]
        scopes = [(resource, namespace) for resource in resources for namespace in where]
        self.store = ChildStore((r.plural, ns) for r, ns in scopes)
        self._reader = reader
        self._watches = [ChildWatch(r, ns, selectors[r.plural], self.store, on_change,
                                    reader, server_timeout, absent_retry) for r, ns in scopes]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(watch.run(), name=f"watch {watch.scope}")
                       for watch in self._watches]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._reader.close()
