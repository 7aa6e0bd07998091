"""prometheus-client metrics on a per-app registry (several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("tcclog_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("tcclog_http_request_duration_seconds", "HTTP latency",
                                 ["method", "route"], registry=r)
        self.pool = Gauge("tcclog_db_pool_connections", "DB pool connections",
                          ["pool", "state"], registry=r)
        self.cache_hits = Counter("tcclog_cache_hits_total", "Cache hits", registry=r)
        self.cache_misses = Counter("tcclog_cache_misses_total", "Cache misses", registry=r)
        self.cache_errors = Counter("tcclog_cache_errors_total", "Redis failures (served as "
                                    "misses)", registry=r)
        self.ai_latency = Histogram("tcclog_ai_request_duration_seconds", "AI chat latency",
                                    registry=r)
        self.ai_tokens = Counter("tcclog_ai_tokens_total", "LLM tokens", ["kind"], registry=r)
        self.ai_errors = Counter("tcclog_ai_errors_total", "AI failures", ["reason"], registry=r)

    def observe_pools(self, stats: dict[str, dict[str, int]]) -> None:
        for pool, values in stats.items():
            self.pool.labels(pool, "size").set(values.get("pool_size", 0))
            self.pool.labels(pool, "available").set(values.get("pool_available", 0))
            self.pool.labels(pool, "waiting").set(values.get("requests_waiting", 0))
