"""Service settings from YILU_* environment variables (docs/architecture.md, "Service layer")."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.errors import InputError
from service.settings import DEFAULT_PORTS, ServiceSettings, load_settings

FIELDS = ("DATA_DIR", "DATABASE_URL", "HOST", "PORT", "MAX_BODY_BYTES", "LOG_JSON")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in FIELDS:
        monkeypatch.delenv("YILU_" + field, raising=False)


def test_defaults_work_with_nothing_configured() -> None:
    settings = load_settings()
    assert settings.data_dir == Path("yilu-data")
    assert settings.database_url is None
    assert settings.host == "127.0.0.1"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.log_json is True
    assert settings.port_for("registry") == DEFAULT_PORTS["registry"]
    assert len(set(DEFAULT_PORTS.values())) == 4


def test_environment_sets_every_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YILU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("YILU_DATABASE_URL", "postgresql+psycopg://yilu@localhost/yilu")
    monkeypatch.setenv("YILU_HOST", "::1")
    monkeypatch.setenv("YILU_PORT", "9000")
    monkeypatch.setenv("YILU_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("YILU_LOG_JSON", "false")
    settings = ServiceSettings()
    assert settings.data_dir == tmp_path
    assert settings.database_url == "postgresql+psycopg://yilu@localhost/yilu"
    assert (settings.host, settings.port_for("root"), settings.max_body_bytes) == ("::1", 9000, 2048)
    assert settings.log_json is False


def test_invalid_values_are_one_message_naming_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YILU_PORT", "abc")
    monkeypatch.setenv("YILU_MAX_BODY_BYTES", "0")
    with pytest.raises(InputError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("invalid service settings: ")
    assert "YILU_PORT" in message and "'abc'" in message
    assert "YILU_MAX_BODY_BYTES" in message


def test_port_out_of_range_and_unknown_role_are_refused() -> None:
    with pytest.raises(InputError, match="YILU_PORT"):
        load_settings(port=70000)
    with pytest.raises(InputError, match="unknown service role 'lab'"):
        load_settings().port_for("lab")


def test_list_validity_and_margin_are_checked() -> None:
    from service.settings import load_settings

    settings = load_settings(list_validity_days=3, republish_margin_days=1)
    assert settings.list_validity().days == 3 and settings.republish_margin().days == 1
    with pytest.raises(InputError, match="settings: YILU_REPUBLISH_MARGIN_DAYS must be less than"):
        load_settings(list_validity_days=2, republish_margin_days=2)
    with pytest.raises(InputError, match="YILU_LIST_VALIDITY_DAYS"):
        load_settings(list_validity_days=0)
