"""Typed settings: the SHOPOPS_ environment, safe defaults, and no weak secrets in production."""

from __future__ import annotations

import os
from pathlib import PurePosixPath

import pytest
from sqlalchemy.engine import make_url

from shopops.config import DEFAULT_DATABASE_URL, InsecureSettings, Settings

STRONG = "s3cr3t-" + "x" * 40


def _secret_fields() -> list[str]:
    """Every setting that ships with a development placeholder secret."""
    return sorted(
        name
        for name, field in Settings.model_fields.items()
        if isinstance(field.default, str) and field.default.startswith("dev-")
    )


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SHOPOPS_"):
            monkeypatch.delenv(name)


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_placeholder_secrets_are_known() -> None:
    assert {"secret_key", "pii_key"} <= set(_secret_fields())


def test_production_refuses_the_default_secrets() -> None:
    with pytest.raises(InsecureSettings) as caught:
        make(env="production")
    for name in _secret_fields():
        assert f"SHOPOPS_{name.upper()}" in str(caught.value)


@pytest.mark.parametrize("weak_field", _secret_fields())
@pytest.mark.parametrize("weak_value", ["short", "y" * 31, "default"])
def test_production_refuses_each_weak_secret(weak_field: str, weak_value: str) -> None:
    values = dict.fromkeys(_secret_fields(), STRONG)
    values[weak_field] = (
        Settings.model_fields[weak_field].default if weak_value == "default" else weak_value
    )
    with pytest.raises(InsecureSettings) as caught:
        make(env="production", **values)
    message = str(caught.value)
    assert f"SHOPOPS_{weak_field.upper()}" in message
    for other in set(_secret_fields()) - {weak_field}:
        assert f"SHOPOPS_{other.upper()}" not in message


def test_production_accepts_strong_secrets() -> None:
    settings = make(env="production", **dict.fromkeys(_secret_fields(), "z" * 32))
    assert settings.env == "production"
    assert settings.drains_inline is False  # production leaves the outbox to the worker


def test_development_and_test_accept_the_defaults() -> None:
    assert make().env == "development"
    assert make().drains_inline is True
    assert make(env="test").secret_key == Settings.model_fields["secret_key"].default


def test_environment_variables_use_the_shopops_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPOPS_DATABASE_URL", "postgresql+psycopg://db.example/shop")
    monkeypatch.setenv("SHOPOPS_OUTBOX_MAX_ATTEMPTS", "9")
    monkeypatch.setenv("SHOPOPS_OUTBOX_INLINE", "false")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///ignored.db")  # no prefix: not ours
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "1")
    settings = make()
    assert settings.database_url == "postgresql+psycopg://db.example/shop"
    assert settings.outbox_max_attempts == 9
    assert settings.drains_inline is False
    assert settings.is_sqlite is False


def test_production_from_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPOPS_ENV", "production")
    with pytest.raises(InsecureSettings):
        make()
    for name in _secret_fields():
        monkeypatch.setenv(f"SHOPOPS_{name.upper()}", STRONG)
    assert make().env == "production"


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPOPS_OUTBOX_MAX_ATTEMPTS", "0")
    with pytest.raises(ValueError, match="outbox_max_attempts"):
        make()


def test_default_database_is_the_sqlite_file_under_var() -> None:
    settings = make()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///var/shopops.db"
    url = make_url(settings.database_url)
    assert url.get_backend_name() == "sqlite"
    assert url.database is not None
    path = PurePosixPath(url.database)
    assert path.parts == ("var", "shopops.db")
    assert settings.is_sqlite
