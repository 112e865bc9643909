from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from plaudit.config import DEFAULT_DATABASE_URL, Settings, describe_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PLAUDIT_* setting of the machine running the tests leaks in."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"PLAUDIT_{name.upper()}", raising=False)


def test_defaults() -> None:
    settings = Settings()
    assert settings.database_url.get_secret_value() == DEFAULT_DATABASE_URL
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.log_level == "info"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.migrate_on_start is True


def test_environment_variables_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAUDIT_DATABASE_URL", "postgresql://app:pw@db:5432/plaudit")
    monkeypatch.setenv("PLAUDIT_HOST", "0.0.0.0")
    monkeypatch.setenv("PLAUDIT_PORT", "9090")
    monkeypatch.setenv("PLAUDIT_LOG_LEVEL", "debug")
    monkeypatch.setenv("PLAUDIT_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("PLAUDIT_MIGRATE_ON_START", "false")
    monkeypatch.setenv("PLAUDIT_SHUTDOWN_GRACE_S", "2.5")
    monkeypatch.setenv("PLAUDIT_DB_POOL_SIZE", "3")
    monkeypatch.setenv("PLAUDIT_OUTBOUND_ALLOW_HTTP", "1")
    settings = Settings()
    assert settings.database_url.get_secret_value() == "postgresql://app:pw@db:5432/plaudit"
    assert settings.host == "0.0.0.0"
    assert settings.port == 9090
    assert settings.log_level == "debug"
    assert settings.max_body_bytes == 4096
    assert settings.migrate_on_start is False
    assert settings.shutdown_grace_s == 2.5
    assert settings.db_pool_size == 3
    assert settings.outbound_allow_http is True


def test_variable_names_are_case_insensitive_and_unknown_ones_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("plaudit_port", "7000")
    monkeypatch.setenv("PLAUDIT_NO_SUCH_SETTING", "x")
    assert Settings().port == 7000


def test_keyword_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAUDIT_PORT", "9090")
    assert Settings(port=1234).port == 1234


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PLAUDIT_PORT", "http"),
        ("PLAUDIT_PORT", "70000"),
        ("PLAUDIT_PORT", "-1"),
        ("PLAUDIT_LOG_LEVEL", "verbose"),
        ("PLAUDIT_MAX_BODY_BYTES", "100"),
        ("PLAUDIT_MIGRATE_ON_START", "perhaps"),
        ("PLAUDIT_SHUTDOWN_GRACE_S", "-1"),
        ("PLAUDIT_DB_POOL_SIZE", "0"),
    ],
)
def test_bad_values_are_rejected_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert [e["loc"] for e in info.value.errors()] == [(variable.removeprefix("PLAUDIT_").lower(),)]


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:p@h/db",
        "mongodb://h/db",
        "oracle://h/db",
        "not a url",
        "",
        "://",
        "postgresql//missing-colon",
        "sqlite://",
        "sqlite:///:memory:",
    ],
)
def test_bad_database_url_is_rejected(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("PLAUDIT_DATABASE_URL", url)
    with pytest.raises(ValidationError) as info:
        Settings()
    errors = info.value.errors()
    assert [e["loc"] for e in errors] == [("database_url",)]
    assert "PLAUDIT_DATABASE_URL" in errors[0]["msg"]


@pytest.mark.parametrize(
    "url", ["sqlite:///./x.db", "sqlite:////abs/x.db", "postgresql://h/db", "postgres://h/db"]
)
def test_supported_database_urls_are_accepted(url: str) -> None:
    assert Settings(database_url=SecretStr(url)).database_url.get_secret_value() == url


@pytest.mark.parametrize(
    "url",
    [
        "mysql://plaudit:hunter2@db/x",
        "postgresql://plaudit:hunter2@db:notaport/x",
        "sqlite://plaudit:hunter2@",
    ],
)
def test_a_rejected_database_url_does_not_echo_its_password(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("PLAUDIT_DATABASE_URL", url)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert "PLAUDIT_DATABASE_URL" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_masked_database_url_hides_the_password() -> None:
    settings = Settings(database_url=SecretStr("postgresql://app:hunter2@db.internal:5432/plaudit"))
    masked = settings.database_url_masked()
    assert masked == "postgresql://app:***@db.internal:5432/plaudit"
    assert "hunter2" not in masked
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_masked_database_url_without_password_is_unchanged() -> None:
    settings = Settings(database_url=SecretStr("sqlite:///./data/plaudit.db"))
    assert settings.database_url_masked() == "sqlite:///./data/plaudit.db"


def test_describe_settings_lists_every_field_once() -> None:
    rows = describe_settings()
    variables = [variable for variable, _, _ in rows]
    assert variables == [f"PLAUDIT_{name.upper()}" for name in Settings.model_fields]
    assert len(set(variables)) == len(variables)
    for variable, default, description in rows:
        assert description, f"{variable} has no description"
        assert isinstance(default, str)


def test_describe_settings_renders_defaults() -> None:
    rows = {variable: default for variable, default, _ in describe_settings()}
    assert rows["PLAUDIT_DATABASE_URL"] == DEFAULT_DATABASE_URL
    assert rows["PLAUDIT_PORT"] == "8000"
    assert rows["PLAUDIT_MIGRATE_ON_START"] == "true"
    assert rows["PLAUDIT_OUTBOUND_ALLOW_HTTP"] == "false"
    assert rows["PLAUDIT_OUTBOUND_CA_BUNDLE"] == ""
    assert rows["PLAUDIT_LOG_LEVEL"] == "info"
