"""Incentive programs: campaigns, participants, progress, milestones, leaderboards, payouts

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from plaudit.store.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("recurrence", sa.String(length=20), nullable=False),
        sa.Column("reward_type", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("auto_approve", sa.Boolean(), nullable=False),
        sa.Column(
            "definition", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_campaigns_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaigns_environment_status", ["environment_id", "status", "id"], unique=False
        )

    op.create_table(
        "campaign_milestones",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.String(length=32), nullable=False),
        sa.Column("attainment", sa.String(length=64), nullable=False),
        sa.Column("reached_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_milestones_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id",
            "period_start",
            "employee_id",
            "threshold",
            name=op.f("pk_campaign_milestones"),
        ),
    )
    op.create_table(
        "campaign_participants",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("group_id", sa.String(length=40), nullable=True),
        sa.Column(
            "targets", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_participants_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_campaign_participants_employee_id_employees"),
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "employee_id", name=op.f("pk_campaign_participants")
        ),
    )
    with op.batch_alter_table("campaign_participants", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_participants_employee", ["employee_id"], unique=False)

    op.create_table(
        "campaign_payouts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reward_type", sa.String(length=20), nullable=False),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("amount", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("attainment", sa.String(length=64), nullable=False),
        sa.Column("point_entry_id", sa.String(length=40), nullable=True),
        sa.Column("calculated_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_payouts_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_campaign_payouts_employee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_campaign_payouts_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_payouts")),
        sa.UniqueConstraint(
            "campaign_id", "period_start", "employee_id", name="uq_campaign_payouts"
        ),
    )
    with op.batch_alter_table("campaign_payouts", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_payouts_employee", ["employee_id", "id"], unique=False)
        batch_op.create_index(
            "ix_campaign_payouts_environment", ["environment_id", "id"], unique=False
        )

    op.create_table(
        "campaign_progress",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("metric_key", sa.String(length=100), nullable=False),
        sa.Column("sum", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("max", sa.String(length=64), nullable=True),
        sa.Column("distinct_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_progress_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id",
            "period_start",
            "employee_id",
            "metric_key",
            name=op.f("pk_campaign_progress"),
        ),
    )
    op.create_table(
        "campaign_settlements",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("settled_at", UtcDateTime(), nullable=False),
        sa.Column("payout_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_settlements_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "period_start", name=op.f("pk_campaign_settlements")
        ),
    )
    op.create_table(
        "leaderboards",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("group_id", sa.String(length=40), nullable=True),
        sa.Column("rank_by", sa.String(length=100), nullable=False),
        sa.Column("top_n", sa.Integer(), nullable=False),
        sa.Column("min_interval_s", sa.Integer(), nullable=False),
        sa.Column(
            "announced", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("last_emitted_at", UtcDateTime(), nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_leaderboards_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboards")),
    )
    with op.batch_alter_table("leaderboards", schema=None) as batch_op:
        batch_op.create_index("ix_leaderboards_campaign", ["campaign_id", "id"], unique=False)
        batch_op.create_index("ix_leaderboards_pending", ["pending"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("leaderboards", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboards_pending")
        batch_op.drop_index("ix_leaderboards_campaign")

    op.drop_table("leaderboards")
    op.drop_table("campaign_settlements")
    op.drop_table("campaign_progress")
    with op.batch_alter_table("campaign_payouts", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_payouts_environment")
        batch_op.drop_index("ix_campaign_payouts_employee")

    op.drop_table("campaign_payouts")
    with op.batch_alter_table("campaign_participants", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_participants_employee")

    op.drop_table("campaign_participants")
    op.drop_table("campaign_milestones")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_environment_status")

    op.drop_table("campaigns")
