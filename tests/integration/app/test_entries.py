from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

API = "/api/v1"


def _word() -> str:
    return "w" + uuid.uuid4().hex[:10]


def test_entry_crud_with_tags_topic_and_cursor_pagination(client: TestClient,
                                                          user: dict[str, str]) -> None:
    tag = client.post(f"{API}/tags", json={"name": "python"}, headers=user).json()
    topic = client.post(f"{API}/topics", json={"name": "work"}, headers=user).json()
    created = client.post(f"{API}/entries", headers=user, json={
        "title": "First", "content": "hello", "tag_ids": [tag["id"]], "topic_id": topic["id"]})
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["tag_ids"] == [tag["id"]] and entry["topic_id"] == topic["id"]

    for i in range(4):
        response = client.post(f"{API}/entries", json={"title": f"n{i}"}, headers=user)
        assert response.status_code == 201

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/entries", params=params, headers=user).json()
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)

    by_tag = client.get(f"{API}/entries", params={"tag_id": tag["id"]}, headers=user).json()
    assert [e["id"] for e in by_tag["data"]] == [entry["id"]]
    by_topic = client.get(f"{API}/entries", params={"topic_id": topic["id"]}, headers=user).json()
    assert [e["id"] for e in by_topic["data"]] == [entry["id"]]

    patched = client.patch(f"{API}/entries/{entry['id']}", headers=user,
                           json={"title": "Renamed", "tag_ids": []})
    assert patched.status_code == 200
    assert patched.json()["title"] == "Renamed" and patched.json()["tag_ids"] == []
    # the cached read was invalidated by the write
    assert client.get(f"{API}/entries/{entry['id']}", headers=user).json()["title"] == "Renamed"

    assert client.delete(f"{API}/entries/{entry['id']}", headers=user).status_code == 204
    assert client.get(f"{API}/entries/{entry['id']}", headers=user).status_code == 404
    assert client.delete(f"{API}/entries/{entry['id']}", headers=user).status_code == 404


def test_full_text_search_is_ranked_and_filtered(client: TestClient,
                                                 user: dict[str, str]) -> None:
    word = _word()
    weak = client.post(f"{API}/entries", headers=user,
                       json={"title": "misc", "content": f"mentions {word} once"}).json()
    strong = client.post(f"{API}/entries", headers=user,
                         json={"title": f"{word} notes", "content": f"all about {word}"}).json()
    client.post(f"{API}/entries", headers=user, json={"title": "unrelated", "content": "x"})
    hits = client.get(f"{API}/entries/search", params={"q": word}, headers=user).json()["data"]
    assert [h["id"] for h in hits] == [strong["id"], weak["id"]]
    assert hits[0]["rank"] > hits[1]["rank"]
    # websearch syntax: exclusion
    hits = client.get(f"{API}/entries/search", params={"q": f"{word} -notes"},
                      headers=user).json()["data"]
    assert [h["id"] for h in hits] == [weak["id"]]


def test_references_to_missing_rows_are_422_naming_the_field(client: TestClient,
                                                            user: dict[str, str]) -> None:
    response = client.post(f"{API}/entries", headers=user,
                           json={"title": "t", "tag_ids": [2**62]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "tag_ids"]
    response = client.post(f"{API}/entries", headers=user, json={"title": "t", "topic_id": 2**62})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "topic_id"]


def test_invalid_input_names_the_field(client: TestClient, user: dict[str, str]) -> None:
    cases = [
        ("post", f"{API}/entries", {"json": {"content": "no title"}}, "title"),
        ("post", f"{API}/entries", {"json": {"title": ""}}, "title"),
        ("post", f"{API}/entries", {"json": {"title": "a\x00b"}}, "title"),
        ("post", f"{API}/entries", {"json": {"title": "t", "tag_ids": ["x"]}}, "tag_ids"),
        ("get", f"{API}/entries", {"params": {"limit": 0}}, "limit"),
        ("get", f"{API}/entries", {"params": {"cursor": "!!!"}}, "cursor"),
        ("get", f"{API}/entries/search", {"params": {"q": ""}}, "q"),
        ("get", f"{API}/entries/{2**64}", {}, "entry_id"),
        ("post", f"{API}/links", {"json": {"url": "not a url"}}, "url"),
        ("post", f"{API}/tags", {"json": {"name": " "}}, "name"),
        ("post", f"{API}/galleries", {"json": {"title": "g", "file_ids": [1, 1]}}, "file_ids"),
    ]
    for method, url, kwargs, field in cases:
        response = getattr(client, method)(url, headers=user, **kwargs)
        assert response.status_code == 422, (url, kwargs, response.text)
        locs = [d["loc"] for d in response.json()["detail"]]
        assert any(field in loc for loc in locs), (url, kwargs, locs)


def test_sql_injection_strings_have_no_effect(client: TestClient, user: dict[str, str],
                                              other_user: dict[str, str]) -> None:
    theirs = client.post(f"{API}/entries", headers=other_user,
                         json={"title": "secret", "content": "theirs"}).json()
    payloads = ["' OR '1'='1", "1; DROP TABLE entries; --", "x' UNION SELECT * FROM users --",
                "\\'; DELETE FROM entries WHERE '1'='1", "') OR 1=1 --", "%' OR user_id<>0 --"]
    for payload in payloads:
        created = client.post(f"{API}/entries", headers=user,
                              json={"title": payload, "content": payload})
        assert created.status_code == 201
        assert created.json()["title"] == payload
        assert client.post(f"{API}/tags", headers=user, json={"name": payload}).status_code == 201
        search = client.get(f"{API}/entries/search", params={"q": payload}, headers=user)
        assert search.status_code == 200
        assert theirs["id"] not in [h["id"] for h in search.json()["data"]]
        listing = client.get(f"{API}/entries", params={"tag_id": payload}, headers=user)
        assert listing.status_code == 422
    mine = client.get(f"{API}/entries", params={"limit": 100}, headers=user).json()["data"]
    assert len(mine) == len(payloads)
    assert client.get(f"{API}/entries/{theirs['id']}", headers=other_user).status_code == 200
