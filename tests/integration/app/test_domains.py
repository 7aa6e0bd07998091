from __future__ import annotations

import hashlib
import os
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.conftest import make_client, new_user

API = "/api/v1"


def test_tags_and_topics_crud(client: TestClient, user: dict[str, str]) -> None:
    for kind in ("tags", "topics"):
        created = client.post(f"{API}/{kind}", json={"name": "alpha"}, headers=user)
        assert created.status_code == 201
        item = created.json()
        dup = client.post(f"{API}/{kind}", json={"name": "alpha"}, headers=user)
        assert dup.status_code == 409 and dup.json()["detail"][0]["loc"] == ["body", "name"]
        beta = client.post(f"{API}/{kind}", json={"name": "beta"}, headers=user).json()
        clash = client.patch(f"{API}/{kind}/{beta['id']}", json={"name": "alpha"}, headers=user)
        assert clash.status_code == 409
        renamed = client.patch(f"{API}/{kind}/{item['id']}", json={"name": "gamma"}, headers=user)
        assert renamed.json()["name"] == "gamma"
        assert client.get(f"{API}/{kind}/{item['id']}", headers=user).json()["name"] == "gamma"
        page = client.get(f"{API}/{kind}", params={"limit": 1}, headers=user).json()
        assert len(page["data"]) == 1 and page["next_cursor"]
        rest = client.get(f"{API}/{kind}", params={"cursor": page["next_cursor"]},
                          headers=user).json()
        assert [t["name"] for t in page["data"] + rest["data"]] == ["beta", "gamma"]
        assert client.delete(f"{API}/{kind}/{item['id']}", headers=user).status_code == 204
        assert client.get(f"{API}/{kind}/{item['id']}", headers=user).status_code == 404


def test_links_crud(client: TestClient, user: dict[str, str]) -> None:
    entry = client.post(f"{API}/entries", json={"title": "with link"}, headers=user).json()
    link = client.post(f"{API}/links", headers=user, json={
        "url": "https://example.com/a", "title": "A", "entry_id": entry["id"]})
    assert link.status_code == 201, link.text
    link_id = link.json()["id"]
    listed = client.get(f"{API}/links", params={"entry_id": entry["id"]}, headers=user).json()
    assert [x["id"] for x in listed["data"]] == [link_id]
    patched = client.patch(f"{API}/links/{link_id}", json={"title": "B"}, headers=user).json()
    assert patched["title"] == "B" and patched["url"] == "https://example.com/a"
    assert client.get(f"{API}/links/{link_id}", headers=user).json()["title"] == "B"
    assert client.delete(f"{API}/links/{link_id}", headers=user).status_code == 204
    assert client.get(f"{API}/links/{link_id}", headers=user).status_code == 404


def test_file_upload_download_gallery_and_delete(client: TestClient, user: dict[str, str]) -> None:
    payload = os.urandom(9 * 1024 * 1024 + 123)  # more than one multipart part
    up = client.post(f"{API}/files", headers=user,
                     files={"file": ("photo one.jpg", payload, "image/jpeg")})
    assert up.status_code == 201, up.text
    meta = up.json()
    assert meta["size"] == len(payload)
    assert meta["sha256"] == hashlib.sha256(payload).hexdigest()
    small = client.post(f"{API}/files", headers=user,
                        files={"file": ("b.txt", b"hello", "text/plain")}).json()
    down = client.get(f"{API}/files/{meta['id']}/content", headers=user)
    assert down.status_code == 200 and down.content == payload
    assert down.headers["content-type"] == "image/jpeg"
    got = client.get(f"{API}/files/{meta['id']}", headers=user).json()
    assert got["filename"] == "photo one.jpg"
    assert len(client.get(f"{API}/files", headers=user).json()["data"]) == 2

    gallery = client.post(f"{API}/galleries", headers=user,
                          json={"title": "trip", "file_ids": [small["id"], meta["id"]]})
    assert gallery.status_code == 201, gallery.text
    gid = gallery.json()["id"]
    assert gallery.json()["file_ids"] == [small["id"], meta["id"]]
    reordered = client.patch(f"{API}/galleries/{gid}", headers=user,
                             json={"file_ids": [meta["id"], small["id"]]}).json()
    assert reordered["file_ids"] == [meta["id"], small["id"]] and reordered["title"] == "trip"
    assert len(client.get(f"{API}/galleries", headers=user).json()["data"]) == 1

    s3 = client.app.state.storage  # type: ignore[attr-defined]
    key = f"users/{_user_id(client, user)}/files/"
    assert len(s3.list_keys(key)) == 2
    assert client.delete(f"{API}/files/{meta['id']}", headers=user).status_code == 204
    assert len(s3.list_keys(key)) == 1
    assert client.get(f"{API}/files/{meta['id']}/content", headers=user).status_code == 404
    assert client.get(f"{API}/galleries/{gid}", headers=user).json()["file_ids"] == [small["id"]]
    assert client.delete(f"{API}/galleries/{gid}", headers=user).status_code == 204


def _user_id(client: TestClient, headers: dict[str, str]) -> int:
    return client.get(f"{API}/me", headers=headers).json()["id"]


def test_upload_over_the_limit_is_413_and_leaves_nothing(base_settings: dict[str, Any]) -> None:
    with make_client(**{**base_settings, "max_upload_bytes": 1024}) as client:
        headers = new_user(client)
        too_big = client.post(f"{API}/files", headers=headers,
                              files={"file": ("big.bin", b"x" * 2048, "application/x-big")})
        assert too_big.status_code == 413
        assert too_big.json()["detail"][0]["loc"] == ["body", "file"]
        assert client.get(f"{API}/files", headers=headers).json()["data"] == []
        user_id = _user_id(client, headers)
        storage = client.app.state.storage  # type: ignore[attr-defined]
        assert storage.list_keys(f"users/{user_id}/") == []
        fits = client.post(f"{API}/files", headers=headers,
                           files={"file": ("ok.bin", b"x" * 1024, "application/x-ok")})
        assert fits.status_code == 201 and fits.json()["content_type"] == "application/x-ok"
