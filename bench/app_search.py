"""Search and list latency with 1,000,000 entries: through HTTP (one uvicorn worker) and the
same SQL raw through psycopg, in one run. Also cached GET throughput on one worker.

    .venv/bin/python bench/app_search.py [--entries 1000000] [--users 100] [--requests 300]

Starts its own PostgreSQL and Redis on loopback (as `tcctest` when run as root); prints a
JSON report. Benchmarks are not tests: nothing here asserts a timing."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.integration import _services as svc  # noqa: E402

from tcclog.core.migrations import migrate  # noqa: E402
from tcclog.entries import queries  # noqa: E402

VOCABULARY = 5000
GENERATE = """
INSERT INTO users (email, password_hash)
  SELECT 'bench' || g || '@example.com', 'x' FROM generate_series(1, %(others)s) g;
INSERT INTO entries (user_id, title, content, created_at)
SELECT u.id,
       'w' || (random() * %(vocab)s)::int || ' w' || (random() * %(vocab)s)::int,
       (SELECT string_agg('w' || (random() * %(vocab)s)::int, ' ')
          FROM generate_series(1, 30 + (g %% 3)) w),
       now() - make_interval(secs => g)
FROM generate_series(1, %(per_user)s) g, users u;
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": pct(values, 0.5), "p95_ms": pct(values, 0.95),
            "mean_ms": round(statistics.fmean(values), 2)}


def seed(dsn: str, user_id: int, total: int, users: int) -> None:
    per_user = total // users
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        # Building the GIN index once after the load is far cheaper than maintaining it per row;
        # the definition is migration 3's.
        conn.execute("DROP INDEX entries_user_search_idx")
        conn.execute(GENERATE.replace("%(others)s", str(users - 1))
                     .replace("%(vocab)s", str(VOCABULARY)).replace("%%", "%")
                     .replace("%(per_user)s", str(per_user)))
        conn.execute("CREATE INDEX entries_user_search_idx ON entries USING gin (user_id, search)")
        conn.execute("VACUUM ANALYZE entries")
        count = conn.execute("SELECT count(*) FROM entries").fetchone()
    sys.stderr.write(f"seeded {count[0] if count else 0} entries for {users} users in "
                     f"{time.perf_counter() - started:.0f}s (user {user_id})\n")


def time_http(http: httpx.Client, path: str, params: list[dict[str, Any]],
              headers: dict[str, str]) -> tuple[list[float], list[float]]:
    client_ms, server_ms = [], []
    for p in params:
        started = time.perf_counter()
        response = http.get(path, params=p, headers=headers)
        client_ms.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        server_ms.append(float(response.headers["server-timing"].split("dur=")[1]))
    return client_ms, server_ms


def time_raw(dsn: str, sql: str, args: list[list[Any]]) -> list[float]:
    out = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for a in args:
            started = time.perf_counter()
            conn.execute(sql, a).fetchall()
            out.append((time.perf_counter() - started) * 1000)
    return out


async def throughput(base: str, path: str, headers: dict[str, str], seconds: float,
                     concurrency: int) -> float:
    done = 0
    deadline = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            (await client.get(path, headers=headers)).raise_for_status()
            done += 1

    async with httpx.AsyncClient(base_url=base) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return round(done / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    cluster = svc.start_postgres()
    redis = svc.start_redis()
    server = None
    try:
        with psycopg.connect(cluster.primary.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        dsn = cluster.primary.dsn("bench")
        migrate(dsn)
        port = svc.free_port()
        env = {**os.environ, "TCCLOG_ENVIRONMENT": "test", "TCCLOG_DATABASE_URL": dsn,
               "TCCLOG_JWT_SECRET": "bench-secret-0123456789-0123456789",
               "TCCLOG_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
               "TCCLOG_RATE_LIMIT_PER_MINUTE": "0", "TCCLOG_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen([sys.executable, "-m", "tcclog", "serve", "--host",
                                   "127.0.0.1", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        svc.wait_port(port, 60)
        base = f"http://127.0.0.1:{port}"
        http = httpx.Client(base_url=base, timeout=30)
        creds = {"email": "me@bench.example", "password": "bench-password"}
        user_id = http.post("/api/v1/auth/register", json=creds).json()["id"]
        token = http.post("/api/v1/auth/token", data={"username": creds["email"],
                                                      "password": creds["password"]}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        seed(dsn, user_id, args.entries, args.users)

        rng = random.Random(7)
        words = [f"w{rng.randrange(VOCABULARY)}" for _ in range(args.requests)]
        search_params = [{"q": w, "limit": 20} for w in words]
        http.get("/api/v1/entries/search", params=search_params[0], headers=headers)  # warm
        s_client, s_server = time_http(http, "/api/v1/entries/search", search_params, headers)
        s_raw = time_raw(dsn, queries.SEARCH_SQL.format(where="e.user_id = %s"),
                         [[w, user_id, 20] for w in words])

        ids = [r[0] for r in psycopg.connect(dsn).execute(
            "SELECT id FROM entries WHERE user_id = %s ORDER BY id DESC", (user_id,))]
        cursors = [None] + [rng.choice(ids) for _ in range(args.requests - 1)]
        from tcclog.core.errors import encode_cursor

        list_params = [{"limit": 20, **({"cursor": encode_cursor(c)} if c else {})}
                       for c in cursors]
        l_client, l_server = time_http(http, "/api/v1/entries", list_params, headers)
        list_sql = (f"SELECT {queries._COLUMNS} FROM entries e WHERE e.user_id = %s"
                    " AND (%s::bigint IS NULL OR e.id < %s) ORDER BY e.id DESC LIMIT 21")
        l_raw = time_raw(dsn, list_sql, [[user_id, c, c] for c in cursors])

        hot = f"/api/v1/entries/{ids[0]}"
        http.get(hot, headers=headers)
        rps = asyncio.run(throughput(base, hot, headers, seconds=10, concurrency=8))
        report = {
            "entries": args.entries, "users": args.users, "requests": args.requests,
            "search": {"http_client": summary(s_client), "http_server": summary(s_server),
                       "raw_psycopg": summary(s_raw)},
            "list": {"http_client": summary(l_client), "http_server": summary(l_server),
                     "raw_psycopg": summary(l_raw)},
            "cached_get_rps_one_worker": rps,
        }
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        redis.stop()
        svc.cleanup_postgres(cluster)


if __name__ == "__main__":
    main()
