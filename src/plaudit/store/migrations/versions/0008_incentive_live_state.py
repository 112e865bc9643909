"""Incentive live state: campaign revisions, distinct values counted per aggregate

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.String(length=32), server_default="", nullable=False)
        )
    op.create_table(
        "campaign_distinct_values",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("metric_key", sa.String(length=100), nullable=False),
        sa.Column("value_key", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_distinct_values_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id",
            "period_start",
            "employee_id",
            "metric_key",
            "value_key",
            name=op.f("pk_campaign_distinct_values"),
        ),
    )
    # Campaigns from before this revision keep an empty revision: the incentive engine rebuilds an
    # active one from the records (distinct values included) when a load first touches it.


def downgrade() -> None:
    op.drop_table("campaign_distinct_values")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("revision")
