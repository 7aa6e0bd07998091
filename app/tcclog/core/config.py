"""The one Settings class. Built by `create_app` (or the CLI), never at import time."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, computed_field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "changethis"


def _normalise_dsn(value: str | None) -> str | None:
    """Accept SQLAlchemy-style URLs (postgresql+psycopg://) as well as plain libpq DSNs."""
    if value is None or value == "":
        return None
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql://" + value[len(prefix) :]
    return value


class Settings(BaseSettings):
    """Every knob the operator sets, as `TCCLOG_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="TCCLOG_", extra="ignore")

    environment: Literal["dev", "test", "production"] = "production"
    database_url: str = Field("postgresql://tcclog@127.0.0.1:5432/tcclog",
                              description="Primary (read-write) PostgreSQL DSN.")
    database_ro_url: str | None = Field(None, description="Replica DSN; reads fall back to "
                                        "the primary when unset or unreachable.")
    db_pool_min: int = Field(1, ge=0)
    db_pool_max: int = Field(10, ge=1)
    db_ro_timeout: float = Field(1.0, gt=0, description="Seconds to wait for a replica "
                                 "connection before falling back to the primary.")
    redis_url: str | None = Field(None, description="Plain Redis URL (redis://host:port/0).")
    redis_sentinels: str | None = Field(None, description="Comma-separated host:port list.")
    redis_master_name: str = "mymaster"
    redis_password: SecretStr | None = None
    redis_timeout: float = Field(0.25, gt=0)
    cache_ttl: int = Field(300, ge=1)
    rate_limit_per_minute: int = Field(600, ge=0, description="0 disables the limiter.")
    s3_endpoint_url: str | None = None
    s3_bucket: str = "tcclog"
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    backup_prefix: str = "backups/"
    jwt_secret: SecretStr = SecretStr(DEFAULT_SECRET)
    jwt_ttl_minutes: int = Field(60 * 24, ge=1)
    ai_base_url: str = "http://127.0.0.1:1234/v1"
    ai_model: str = "qwen2.5-7b-instruct"
    ai_api_key: SecretStr = SecretStr("lm-studio")
    ai_timeout: float = Field(60.0, gt=0)
    ai_sql_timeout_ms: int = Field(2000, ge=1)
    ai_sql_row_cap: int = Field(50, ge=1)
    max_upload_bytes: int = Field(100 * 1024 * 1024, ge=1)
    log_level: str = "INFO"

    @field_validator("database_url", "database_ro_url", mode="before")
    @classmethod
    def _dsn(cls, value: str | None) -> str | None:
        return _normalise_dsn(value)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        if not self.redis_sentinels:
            return []
        out = []
        for item in self.redis_sentinels.split(","):
            host, _, port = item.strip().rpartition(":")
            out.append((host, int(port)))
        return out

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "dev" and self.jwt_secret.get_secret_value() == DEFAULT_SECRET:
            raise ValueError(
                f"TCCLOG_JWT_SECRET is the default {DEFAULT_SECRET!r}; set a real secret "
                "(only TCCLOG_ENVIRONMENT=dev accepts it)"
            )
        if len(self.jwt_secret.get_secret_value()) < 32 and self.environment != "dev":
            raise ValueError("TCCLOG_JWT_SECRET must be at least 32 characters (HS256)")
        return self
