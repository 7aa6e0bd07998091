from __future__ import annotations

import pytest
from pydantic import ValidationError

from tcclog.core.config import Settings

SECRET = "a-real-secret-of-enough-length-for-hs256"


def test_default_secret_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TCCLOG_JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="TCCLOG_JWT_SECRET"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", jwt_secret="short")
    assert Settings(environment="dev").jwt_secret.get_secret_value() == "changethis"


def test_reads_env_and_normalises_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCCLOG_JWT_SECRET", SECRET)
    monkeypatch.setenv("TCCLOG_DATABASE_URL", "postgresql+psycopg://u:pw@db:5432/app")
    monkeypatch.setenv("TCCLOG_DATABASE_RO_URL", "postgres://u:pw@db-ro/app")
    monkeypatch.setenv("TCCLOG_REDIS_SENTINELS", "s1:26379, s2:26380")
    settings = Settings()
    assert settings.database_url == "postgresql://u:pw@db:5432/app"
    assert settings.database_ro_url == "postgresql://u:pw@db-ro/app"
    assert settings.sentinel_addresses == [("s1", 26379), ("s2", 26380)]


def test_secrets_are_not_rendered() -> None:
    settings = Settings(jwt_secret=SECRET, ai_api_key="sk-very-secret",
                        s3_secret_access_key="s3-very-secret", redis_password="redis-secret")
    text = repr(settings) + str(settings.model_dump())
    for secret in (SECRET, "sk-very-secret", "s3-very-secret", "redis-secret"):
        assert secret not in text


def test_invalid_values_name_the_variable() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(jwt_secret=SECRET, db_pool_max=0)
    assert info.value.errors()[0]["loc"] == ("db_pool_max",)
