from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.integration.conftest import new_user

API = "/api/v1"


def test_register_login_and_me(client: TestClient) -> None:
    email = f"Mixed-{uuid.uuid4().hex[:8]}@Example.com"
    reg = client.post(f"{API}/auth/register", json={"email": email, "password": "pw-12345678"})
    assert reg.status_code == 201 and reg.json()["email"] == email.lower()
    again = client.post(f"{API}/auth/register", json={"email": email, "password": "pw-12345678"})
    assert again.status_code == 409 and again.json()["detail"][0]["loc"] == ["body", "email"]
    bad = client.post(f"{API}/auth/token", data={"username": email, "password": "wrong-pass"})
    assert bad.status_code == 401
    token = client.post(f"{API}/auth/token", data={"username": email, "password": "pw-12345678"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get(f"{API}/me", headers=headers).json()["email"] == email.lower()
    assert client.get(f"{API}/me").status_code == 401
    assert client.get(f"{API}/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    short = client.post(f"{API}/auth/register", json={"email": "a@b.co", "password": "short"})
    assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["body", "password"]


def _fill(client: TestClient, headers: dict[str, str], marker: str) -> dict[str, int]:
    tag = client.post(f"{API}/tags", json={"name": marker}, headers=headers).json()
    topic = client.post(f"{API}/topics", json={"name": marker}, headers=headers).json()
    entry = client.post(f"{API}/entries", headers=headers, json={
        "title": marker, "content": f"{marker} body", "tag_ids": [tag["id"]],
        "topic_id": topic["id"]}).json()
    link = client.post(f"{API}/links", headers=headers,
                       json={"url": f"https://{marker}.example/", "entry_id": entry["id"]}).json()
    file = client.post(f"{API}/files", headers=headers,
                       files={"file": (f"{marker}.txt", marker.encode(), "text/plain")}).json()
    gallery = client.post(f"{API}/galleries", headers=headers,
                          json={"title": marker, "file_ids": [file["id"]]}).json()
    return {"tags": tag["id"], "topics": topic["id"], "entries": entry["id"],
            "links": link["id"], "files": file["id"], "galleries": gallery["id"]}


def test_two_users_cannot_see_or_touch_each_other(client: TestClient) -> None:
    alice, bob = new_user(client), new_user(client)
    marker_a, marker_b = "a" + uuid.uuid4().hex[:8], "b" + uuid.uuid4().hex[:8]
    ids_a = _fill(client, alice, marker_a)
    _fill(client, bob, marker_b)
    for kind, item_id in ids_a.items():
        assert client.get(f"{API}/{kind}/{item_id}", headers=bob).status_code == 404
        listed = client.get(f"{API}/{kind}", params={"limit": 100}, headers=bob).json()["data"]
        assert item_id not in [x["id"] for x in listed]
        body = {"name": "x"} if kind in ("tags", "topics") else {"title": "x"}
        assert client.patch(f"{API}/{kind}/{item_id}", json=body, headers=bob).status_code in (
            404, 405)
        assert client.delete(f"{API}/{kind}/{item_id}", headers=bob).status_code == 404
    assert client.get(f"{API}/files/{ids_a['files']}/content", headers=bob).status_code == 404
    # Bob cannot attach Alice's rows to his own.
    stolen = client.post(f"{API}/entries", headers=bob,
                         json={"title": "t", "tag_ids": [ids_a["tags"]]})
    assert stolen.status_code == 422 and stolen.json()["detail"][0]["loc"] == ["body", "tag_ids"]
    stolen = client.post(f"{API}/galleries", headers=bob,
                         json={"title": "t", "file_ids": [ids_a["files"]]})
    assert stolen.status_code == 422
    assert client.post(f"{API}/links", headers=bob, json={
        "url": "https://x.example/", "entry_id": ids_a["entries"]}).status_code == 422
    assert client.get(f"{API}/entries", params={"tag_id": ids_a["tags"]},
                      headers=bob).json()["data"] == []
    assert client.get(f"{API}/entries/search", params={"q": marker_a},
                      headers=bob).json()["data"] == []
    export_b = client.get(f"{API}/me/export", headers=bob).text
    assert marker_a not in export_b and marker_b in export_b
    # Alice's data survived all of it.
    export_a = client.get(f"{API}/me/export", headers=alice).json()
    assert [e["title"] for e in export_a["entries"]] == [marker_a]


def test_export_then_erase_removes_rows_and_objects(client: TestClient) -> None:
    headers = new_user(client)
    marker = "e" + uuid.uuid4().hex[:8]
    ids = _fill(client, headers, marker)
    export = client.get(f"{API}/me/export", headers=headers).json()
    for kind in ("entries", "tags", "topics", "links", "files", "galleries"):
        assert [x["id"] for x in export[kind]] == [ids[kind]], kind
    assert export["entries"][0]["tag_ids"] == [ids["tags"]]
    assert export["galleries"][0]["file_ids"] == [ids["files"]]
    user_id = export["user"]["id"]
    storage = client.app.state.storage  # type: ignore[attr-defined]
    assert len(storage.list_keys(f"users/{user_id}/")) == 1

    assert client.delete(f"{API}/me", headers=headers).status_code == 204
    assert storage.list_keys(f"users/{user_id}/") == []
    assert client.get(f"{API}/me", headers=headers).status_code == 401
    db = client.app.state.settings.database_url  # type: ignore[attr-defined]
    import psycopg

    with psycopg.connect(db) as conn:
        for table in ("users", "entries", "tags", "files", "galleries", "links"):
            column = "id" if table == "users" else "user_id"
            count = conn.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s",
                                 (user_id,)).fetchone()
            assert count == (0,), table
