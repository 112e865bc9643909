"""Foundation: organizations, environments, API keys, the event log.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from plaudit.store.types import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
    )
    op.create_table(
        "environments",
        sa.Column("id", sa.String(40)),
        sa.Column("organization_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_environments"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_environments_organization_id_organizations",
        ),
        sa.UniqueConstraint("organization_id", "kind", name="uq_environments_organization_id"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40)),
        sa.Column("environment_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("display_prefix", sa.String(20), nullable=False),
        sa.Column("scopes", _json, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["environment_id"], ["environments.id"], name="fk_api_keys_environment_id_environments"
        ),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_environment", "api_keys", ["environment_id", "id"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(40)),
        sa.Column("environment_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("data", _json, nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["environment_id"], ["environments.id"], name="fk_events_environment_id_environments"
        ),
        sa.UniqueConstraint("environment_id", "idempotency_key", name="uq_events_idempotency"),
    )
    op.create_index("ix_events_environment_id", "events", ["environment_id", "id"])
    op.create_index("ix_events_environment_type", "events", ["environment_id", "type", "id"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("api_keys")
    op.drop_table("environments")
    op.drop_table("organizations")
