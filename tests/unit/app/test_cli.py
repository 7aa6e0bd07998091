from __future__ import annotations

import json

import pytest

from tcclog import cli


def test_invalid_settings_exit_2_without_echoing_secrets(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TCCLOG_DATABASE_URL", "postgresql://app:topsecretpw@db/app")
    monkeypatch.setenv("TCCLOG_JWT_SECRET", "short-but-secret")
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "TCCLOG_JWT_SECRET" in err
    assert "topsecretpw" not in err and "short-but-secret" not in err


def test_openapi_needs_no_environment(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TCCLOG_JWT_SECRET", raising=False)
    assert cli.main(["openapi"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"/api/v1/entries", "/api/v1/ai/chat", "/api/v1/me/export"} <= set(doc["paths"])


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["frobnicate"])
    assert info.value.code == 2
