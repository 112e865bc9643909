"""Table definitions (SQLAlchemy Core). Alembic migrations create them; keep both in step."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from plaudit.store.types import JsonDocument, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

environments = Table(
    "environments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("organization_id", String(40), ForeignKey("organizations.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("organization_id", "kind"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("display_prefix", String(20), nullable=False),
    Column("scopes", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Index("ix_api_keys_environment", "environment_id", "id"),
)

# The event log: every domain change appends here in its own transaction (outbox).
events = Table(
    "events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", JsonDocument, nullable=False),
    Column("idempotency_key", String(255), nullable=True),
    Column("request_hash", String(64), nullable=True),
    Column("is_test", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # The appending transaction's place in commit order, for the Connect events feed (see
    # plaudit.store.feed_order): feeds read in (feed_tx, id) order.
    Column("feed_tx", BigInteger, nullable=False, server_default=text("0")),
    UniqueConstraint("environment_id", "idempotency_key", name="uq_events_idempotency"),
    Index("ix_events_environment_id", "environment_id", "id"),
    Index("ix_events_environment_type", "environment_id", "type", "id"),
    Index("ix_events_environment_feed", "environment_id", "feed_tx", "id"),
)

# Outbound delivery ---------------------------------------------------------------------------

endpoints = Table(
    "endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("description", String(500), nullable=False, default=""),
    Column("event_types", JsonDocument, nullable=False),  # [] = every catalog type
    Column("headers", JsonDocument, nullable=False),
    Column("rate_limit_per_s", Float, nullable=True),
    Column("timeout_s", Float, nullable=False),
    Column("fields", JsonDocument, nullable=True),  # {"include": [...]} or {"exclude": [...]}
    Column("template", Text, nullable=True),  # JSONata
    Column("retry_schedule", JsonDocument, nullable=True),  # seconds; None = default
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(40), nullable=True),
    Column("fifo", Boolean, nullable=False),
    Column("fifo_next_seq", BigInteger, nullable=False, default=0),
    # Flow control shared by every worker.
    Column("failing_since", UtcDateTime(), nullable=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("paused_until", UtcDateTime(), nullable=True),
    Column("rate_tokens", Float, nullable=True),
    Column("rate_refilled_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("deleted_at", UtcDateTime(), nullable=True),
    Index("ix_endpoints_environment", "environment_id", "id"),
)

endpoint_secrets = Table(
    "endpoint_secrets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", String(40), ForeignKey("endpoints.id"), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),  # set on rotation: the overlap's end
    Index("ix_endpoint_secrets_endpoint", "endpoint_id"),
)

# One row per (event, endpoint). Status stays "pending" while a worker holds its lease.
messages = Table(
    "messages",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), nullable=False),
    Column("endpoint_id", String(40), ForeignKey("endpoints.id"), nullable=False),
    Column("event_id", String(40), ForeignKey("events.id"), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("status", String(20), nullable=False),  # pending | succeeded | failed
    Column("attempt_count", Integer, nullable=False, default=0),
    # Attempts made in the current retry series; a resend or recovery starts a new one.
    Column("schedule_position", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", UtcDateTime(), nullable=True),
    Column("fifo_seq", BigInteger, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("was_exhausted", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("event_id", "endpoint_id", name="uq_messages_event_endpoint"),
    Index("ix_messages_due", "status", "next_attempt_at"),
    Index("ix_messages_endpoint", "endpoint_id", "status", "next_attempt_at"),
    Index("ix_messages_environment", "environment_id", "id"),
    # Partial: only FIFO messages carry a sequence number, so others never touch it.
    Index(
        "ix_messages_fifo",
        "endpoint_id",
        "status",
        "fifo_seq",
        sqlite_where=text("fifo_seq IS NOT NULL"),
        postgresql_where=text("fifo_seq IS NOT NULL"),
    ),
)

message_attempts = Table(
    "message_attempts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("message_id", String(40), nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("environment_id", String(40), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(30), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("duration_ms", Float, nullable=False),
    Column("error", String(500), nullable=True),
    Column("response_headers", JsonDocument, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("worker", String(64), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Index("ix_message_attempts_message", "message_id", "id"),
    Index("ix_message_attempts_endpoint", "endpoint_id", "id"),
)

# Long-running operator jobs (bulk recovery), resumable by any worker.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("params", JsonDocument, nullable=False),
    Column("status", String(20), nullable=False),  # queued | running | succeeded | failed
    Column("total", Integer, nullable=True),
    Column("processed", Integer, nullable=False, default=0),
    Column("position", String(40), nullable=True),  # last message id handled: resume point
    Column("error", String(500), nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Index("ix_jobs_status", "status", "created_at"),
)
