"""Inbound data: sources, raw requests, records, template versions, transactions

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from plaudit.store.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_sources",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column(
            "verification", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "dedupe", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_ingest_sources_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_sources")),
        sa.UniqueConstraint("token", name=op.f("uq_ingest_sources_token")),
    )
    with op.batch_alter_table("ingest_sources", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ingest_sources_environment", ["environment_id", "status", "id"], unique=False
        )

    op.create_table(
        "ingest_dedupe_keys",
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["ingest_sources.id"],
            name=op.f("fk_ingest_dedupe_keys_source_id_ingest_sources"),
        ),
        sa.PrimaryKeyConstraint("source_id", "key", name=op.f("pk_ingest_dedupe_keys")),
    )
    op.create_table(
        "ingest_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column(
            "headers", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reject_code", sa.String(length=60), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("loaded", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_ingest_requests_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["ingest_sources.id"],
            name=op.f("fk_ingest_requests_source_id_ingest_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_requests")),
    )
    with op.batch_alter_table("ingest_requests", schema=None) as batch_op:
        batch_op.create_index("ix_ingest_requests_source", ["source_id", "id"], unique=False)
        batch_op.create_index("ix_ingest_requests_status", ["status", "id"], unique=False)

    op.create_table(
        "ingest_templates",
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["ingest_sources.id"],
            name=op.f("fk_ingest_templates_source_id_ingest_sources"),
        ),
        sa.PrimaryKeyConstraint("source_id", "version", name=op.f("pk_ingest_templates")),
    )
    op.create_table(
        "transactions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column(
            "attributes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=True),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_transactions_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_transactions_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint(
            "environment_id", "source_id", "external_id", name="uq_transactions_external_id"
        ),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transactions_employee", ["environment_id", "employee_id", "metric"], unique=False
        )
        batch_op.create_index(
            "ix_transactions_metric", ["environment_id", "metric", "occurred_at"], unique=False
        )

    op.create_table(
        "ingest_records",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("input", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("raw_text", sa.Text(), nullable=True),
        sa.Column(
            "output", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("dedupe_key", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=True),
        sa.Column("reason_code", sa.String(length=60), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_ingest_records_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["ingest_requests.id"],
            name=op.f("fk_ingest_records_request_id_ingest_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["ingest_sources.id"],
            name=op.f("fk_ingest_records_source_id_ingest_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_records")),
        sa.UniqueConstraint("request_id", "position", name="uq_ingest_records_position"),
    )
    with op.batch_alter_table("ingest_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ingest_records_source_status", ["source_id", "status", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_records", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_records_source_status")

    op.drop_table("ingest_records")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_metric")
        batch_op.drop_index("ix_transactions_employee")

    op.drop_table("transactions")
    op.drop_table("ingest_templates")
    with op.batch_alter_table("ingest_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_requests_status")
        batch_op.drop_index("ix_ingest_requests_source")

    op.drop_table("ingest_requests")
    op.drop_table("ingest_dedupe_keys")
    with op.batch_alter_table("ingest_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_sources_environment")

    op.drop_table("ingest_sources")
