"""The app's configuration (TCCLOG_* environment, see app/tcclog/core/config.py) as
ConfigMap data. Only non-secret values live here; secrets come from Secret env refs.
"""

from __future__ import annotations

from ..models import TccLog
from .meta import (
    DATABASE_NAME,
    DATABASE_USER,
    POSTGRES_PORT,
    REDIS_MASTER_SET,
    SENTINEL_PORT,
    names,
    namespace_of,
    service_host,
)


def _dsn(host: str) -> str:
    # No password: libpq takes it from PGPASSWORD (a Secret ref), so DSNs are safe to log.
    return f"postgresql://{DATABASE_USER}@{host}:{POSTGRES_PORT}/{DATABASE_NAME}"


def sentinel_addresses(tcclog: TccLog) -> list[str]:
    """Every Sentinel pod by its stable DNS name, so the client survives any one of them."""
    child = names(tcclog)
    domain = f"{child.sentinel_headless}.{namespace_of(tcclog)}.svc"
    return [
        f"{child.sentinel}-{ordinal}.{domain}:{SENTINEL_PORT}"
        for ordinal in range(tcclog.spec.redis.sentinels)
    ]


def app_config(tcclog: TccLog) -> dict[str, str]:
    spec = tcclog.spec
    child = names(tcclog)
    config = {
        "TCCLOG_ENVIRONMENT": "production",
        "TCCLOG_LOG_LEVEL": spec.backend.log_level.upper(),
        "TCCLOG_DATABASE_URL": _dsn(service_host(tcclog, child.postgres_rw)),
        "TCCLOG_REDIS_SENTINELS": ",".join(sentinel_addresses(tcclog)),
        "TCCLOG_REDIS_MASTER_NAME": REDIS_MASTER_SET,
    }
    if spec.postgres.instances > 1:
        # With a single instance the -ro Service has no endpoints; reads use the primary.
        config["TCCLOG_DATABASE_RO_URL"] = _dsn(service_host(tcclog, child.postgres_ro))
    if spec.ai:
        config["TCCLOG_AI_BASE_URL"] = spec.ai.base_url
        config["TCCLOG_AI_MODEL"] = spec.ai.model
        config["TCCLOG_AI_TIMEOUT"] = str(spec.ai.request_timeout_seconds)
    if spec.backup and spec.backup.s3:
        s3 = spec.backup.s3
        if s3.endpoint:
            config["TCCLOG_S3_ENDPOINT_URL"] = s3.endpoint
        if s3.bucket:
            config["TCCLOG_S3_BUCKET"] = s3.bucket
        config["TCCLOG_S3_REGION"] = s3.region
        config["TCCLOG_BACKUP_PREFIX"] = (
            s3.path.strip("/") + "/logical/" if s3.path != "/" else "logical/"
        )
    return config
