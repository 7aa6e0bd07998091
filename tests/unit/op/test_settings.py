"""OperatorSettings: environment prefix, defaults, render settings."""

from __future__ import annotations

import pytest

from tcclog_operator.settings import OperatorSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = OperatorSettings()
    assert settings.field_manager == "tcclog-operator"
    assert settings.clusterwide and settings.namespaces == []
    assert settings.liveness_endpoint == "http://0.0.0.0:8080/healthz"


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCCLOG_OPERATOR_NAMESPACES", "tcc, tcc-staging")
    monkeypatch.setenv("TCCLOG_OPERATOR_APP_IMAGE_REPOSITORY", "registry.local/tcclog")
    monkeypatch.setenv("TCCLOG_OPERATOR_PEERING_PRIORITY", "7")
    settings = OperatorSettings()
    assert settings.namespaces == ["tcc", "tcc-staging"] and not settings.clusterwide
    assert settings.peering_priority == 7
    assert settings.render_settings().app_image_repository == "registry.local/tcclog"


def test_every_image_can_be_overridden_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCCLOG_OPERATOR_REDIS_IMAGE", "mirror.example/redis:7.4")
    monkeypatch.setenv("TCCLOG_OPERATOR_POSTGRES_EXPORTER_IMAGE", "mirror.example/pge:1")
    rendered = OperatorSettings().render_settings()
    assert rendered.redis_image == "mirror.example/redis:7.4"
    assert rendered.postgres_exporter_image == "mirror.example/pge:1"
    assert OperatorSettings().postgres_image_repository == "ghcr.io/tcclog/tcclog-postgres"
