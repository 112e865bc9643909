"""Settings: read once from `PLAUDIT_*` environment variables into one typed object."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from plaudit.domain.errors import ConfigurationError
from plaudit.store.database import async_url

DEFAULT_DATABASE_URL = "sqlite:///./plaudit.db"


class Settings(BaseSettings):
    """Every operator setting. `plaudit --help` and the README list them."""

    # hide_input_in_errors: a rejected value (a database URL with its password) is never echoed.
    model_config = SettingsConfigDict(
        env_prefix="PLAUDIT_", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    database_url: SecretStr = Field(
        default=SecretStr(DEFAULT_DATABASE_URL),
        description="sqlite:///path/to/file.db (default ./plaudit.db) or postgresql://user@host/db",
    )
    host: str = Field(default="127.0.0.1", description="Address `plaudit serve` listens on")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `plaudit serve` listens on")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Minimum level of the JSON log lines on stderr"
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted (bytes)"
    )
    ingest_max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest body a source's push URL (/ingest/...) accepts (bytes)",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply database migrations when `serve`/`worker` start"
    )
    shutdown_grace_s: float = Field(
        default=20.0, ge=0, description="Seconds in-flight work may take to finish on SIGTERM"
    )
    db_pool_size: int = Field(
        default=10, ge=1, description="Database connections per process (PostgreSQL)"
    )
    outbound_allow_cidrs: str = Field(
        default="",
        description="Comma-separated CIDRs exempt from the private-address rule for webhooks",
    )
    outbound_ca_bundle: str | None = Field(
        default=None, description="PEM file of extra CAs trusted for webhook endpoints"
    )
    outbound_allow_http: bool = Field(
        default=False, description="Allow plain-http webhook URLs (development only)"
    )

    delivery_max_in_flight: int = Field(
        default=1024,
        ge=1,
        le=20_000,
        description="Messages a worker process holds at once (sending or queued to send)",
    )
    delivery_per_endpoint: int = Field(
        default=64, ge=1, le=1_000, description="Concurrent requests to one endpoint per worker"
    )
    delivery_lease_s: float = Field(
        default=120.0,
        ge=5,
        description="How long a claimed message is reserved before another worker may take it",
    )
    delivery_poll_interval_s: float = Field(
        default=1.0, gt=0, description="Fallback poll for due retries when nothing wakes a worker"
    )
    endpoint_disable_after_h: float = Field(
        default=120.0, gt=0, description="Disable an endpoint failing continuously this long"
    )
    milestones_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="How often workers look for birthdays, work anniversaries and onboarding days",
    )
    leaderboards_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="How often workers announce leaderboards held back by their interval",
    )
    payouts_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="How often workers calculate the payouts of campaign periods that ended",
    )
    retention_days: float = Field(
        default=90.0,
        ge=0,
        description=(
            "Days events, their webhook messages and delivery attempts are kept (0: forever);"
            " an event is kept while any of its messages is still pending"
        ),
    )
    retention_interval_s: float = Field(
        default=3600.0, gt=0, description="How often workers delete what has aged out"
    )

    connect_rate_limit_per_s: float = Field(
        default=10.0,
        gt=0,
        description="Connect API requests per second per API key (token bucket refill rate)",
    )
    connect_rate_limit_burst: int = Field(
        default=50, ge=1, description="Connect API requests one API key may make in a burst"
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: SecretStr) -> SecretStr:
        # Accept exactly what the database layer accepts (`postgres://` too), and fail here,
        # as a setting error, rather than later at start-up.
        try:
            async_url(value.get_secret_value())
        except ConfigurationError as exc:
            raise ValueError(f"PLAUDIT_DATABASE_URL: {exc}") from exc
        except (ArgumentError, ValueError) as exc:  # ArgumentError would escape pydantic raw
            raise ValueError("PLAUDIT_DATABASE_URL is not a valid database URL") from exc
        return value

    def database_url_masked(self) -> str:
        return make_url(self.database_url.get_secret_value()).render_as_string(hide_password=True)


def describe_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, for help text."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        shown = (
            ""
            if default is None
            else str(default).lower()
            if isinstance(default, bool)
            else str(default)
        )
        rows.append((f"PLAUDIT_{name.upper()}", shown, field.description or ""))
    return rows
