"""Incentive rewards: payout kinds (milestone, rank) and reversal, rank rewards on boards,
followed groups and former participants

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from plaudit.store.types import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("campaign_payouts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="period", nullable=False)
        )
        batch_op.add_column(
            sa.Column("award_key", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reversed_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reversal_entry_id", sa.String(length=40), nullable=True))
        batch_op.drop_constraint("uq_campaign_payouts", type_="unique")
        batch_op.create_unique_constraint(
            "uq_campaign_payouts_award",
            ["campaign_id", "period_start", "employee_id", "kind", "award_key"],
        )
    with op.batch_alter_table("leaderboards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rank_rewards", _JSON, nullable=True))

    groups = op.create_table(
        "campaign_groups",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("targets", _JSON, nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_groups_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "group_id", name=op.f("pk_campaign_groups")),
    )
    with op.batch_alter_table("campaign_groups", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_groups_group", ["group_id"], unique=False)

    op.create_table(
        "campaign_departures",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("group_id", sa.String(length=40), nullable=True),
        sa.Column("targets", _JSON, nullable=False),
        sa.Column("departed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_departures_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "employee_id", name=op.f("pk_campaign_departures")),
    )
    with op.batch_alter_table("campaign_departures", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_departures_employee", ["employee_id"], unique=False)

    # Groups added before this revision are followed from now on.
    participants = sa.table(
        "campaign_participants",
        sa.column("campaign_id", sa.String()),
        sa.column("group_id", sa.String()),
        sa.column("added_at", UtcDateTime()),
    )
    bind = op.get_bind()
    followed = bind.execute(
        sa.select(
            participants.c.campaign_id,
            participants.c.group_id,
            sa.func.min(participants.c.added_at).label("added_at"),
        )
        .where(participants.c.group_id.is_not(None))
        .group_by(participants.c.campaign_id, participants.c.group_id)
    ).all()
    if followed:
        bind.execute(
            groups.insert(),
            [
                {"campaign_id": c, "group_id": g, "targets": {}, "added_at": at}
                for c, g, at in followed
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign_departures", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_departures_employee")
    op.drop_table("campaign_departures")
    with op.batch_alter_table("campaign_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_groups_group")
    op.drop_table("campaign_groups")
    with op.batch_alter_table("leaderboards", schema=None) as batch_op:
        batch_op.drop_column("rank_rewards")
    with op.batch_alter_table("campaign_payouts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_campaign_payouts_award", type_="unique")
        batch_op.create_unique_constraint(
            "uq_campaign_payouts", ["campaign_id", "period_start", "employee_id"]
        )
        batch_op.drop_column("reversal_entry_id")
        batch_op.drop_column("reversed_at")
        batch_op.drop_column("rank")
        batch_op.drop_column("award_key")
        batch_op.drop_column("kind")
