"""Typed settings, read from the environment with the ``SHOPOPS_`` prefix."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-secret-key-change-me-in-production"
DEV_PII_KEY = "dev-pii-key-change-me-in-production"
DEV_PAYMENT_GATEWAY_SECRET = "dev-payment-gateway-secret-change-me"
DEFAULT_DATABASE_URL = "sqlite:///var/shopops.db"


class InsecureSettings(RuntimeError):
    """Raised when production mode is asked to start with development secrets."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPOPS_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    database_echo: bool = False
    database_pool_size: int = Field(default=10, ge=1)

    secret_key: str = DEV_SECRET_KEY
    pii_key: str = DEV_PII_KEY
    # Signs the payment gateway's notifications (HMAC-SHA256); shared with the gateway.
    payment_gateway_secret: str = DEV_PAYMENT_GATEWAY_SECRET

    # Outbox: inline drains after each commit in-process (development, tests);
    # production leaves it to ``shopops worker``.
    outbox_inline: bool | None = None
    outbox_max_attempts: int = Field(default=5, ge=1)
    outbox_backoff_seconds: float = Field(default=2.0, gt=0)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    worker_poll_seconds: float = Field(default=1.0, gt=0)

    session_ttl_minutes: int = Field(default=8 * 60, ge=1)
    # How long an API process trusts a bearer token it has checked (0: check every request).
    # Revocations made in another process take effect within this time.
    api_token_cache_seconds: float = Field(default=10.0, ge=0, le=300)
    session_cookie_name: str = "shopops_session"
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)

    payment_window_minutes: int = Field(default=30, ge=1)
    ship_within_hours: int = Field(default=48, ge=1)
    deliver_within_days: int = Field(default=5, ge=1)
    complete_after_days: int = Field(default=7, ge=1)
    # Carrier integration: unset means the sandbox, except in production (manual entry only).
    carrier_backend: Literal["sandbox", "manual"] | None = None

    store_timezone: str = "UTC"
    default_currency: str = "USD"
    idempotency_ttl_hours: int = Field(default=24, ge=1)

    # Analytics: the derived columnar store (DuckDB), refreshed from this database.
    analytics_store_path: str = "var/analytics.duckdb"
    # Refresh in a background thread shortly after commits; unset means yes, except in tests.
    analytics_refresh_on_commit: bool | None = None

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.env == "production":
            weak = [
                name
                for name, value, default in (
                    ("SHOPOPS_SECRET_KEY", self.secret_key, DEV_SECRET_KEY),
                    ("SHOPOPS_PII_KEY", self.pii_key, DEV_PII_KEY),
                    (
                        "SHOPOPS_PAYMENT_GATEWAY_SECRET",
                        self.payment_gateway_secret,
                        DEV_PAYMENT_GATEWAY_SECRET,
                    ),
                )
                if value == default or len(value) < 32
            ]
            if weak:
                raise InsecureSettings(
                    "production mode refuses default or short secrets: set "
                    + ", ".join(weak)
                    + " to random values of at least 32 characters"
                )
        return self

    @property
    def drains_inline(self) -> bool:
        if self.outbox_inline is not None:
            return self.outbox_inline
        return self.env != "production"

    @property
    def refreshes_analytics_on_commit(self) -> bool:
        if self.analytics_refresh_on_commit is not None:
            return self.analytics_refresh_on_commit
        # Production refreshes from `shopops worker` (every few seconds), never in the
        # API processes that take orders.
        return self.env == "development"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
