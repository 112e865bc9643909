"""Table definitions (SQLAlchemy Core). Alembic migrations create them; keep both in step."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
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
    UniqueConstraint("environment_id", "idempotency_key", name="uq_events_idempotency"),
    Index("ix_events_environment_id", "environment_id", "id"),
    Index("ix_events_environment_type", "environment_id", "type", "id"),
)
