"""Incentive program tables: campaigns, participants, live progress, milestones, leaderboards,
and payouts.

`campaign_progress` holds, per (campaign, period, participant), every metric's running
aggregate in one row (`metrics`: compact JSON text, metric key -> [sum, count, max,
distinct count], decimals as strings, never floats), updated in the transaction that loads
the underlying `transactions` row: a batch reads and writes one row per participant touched,
not one per metric. A COUNT DISTINCT metric's entry also counts the active transactions
carrying each distinct value (a fifth element, value key -> count), so the distinct count
moves by delta too. `campaign_milestones` has one row per (campaign, period, participant,
threshold) ever reached: its primary key is what makes `program.milestone_reached` once-only.
`campaigns.revision` is a new random token with every change of a campaign or its
participants (never a counter: a rolled-back change must not leave a reusable number):
it is what cached parsed campaigns are checked against.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from plaudit.store.tables import metadata
from plaudit.store.types import JsonDocument, UtcDateTime

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(20), nullable=False),  # draft | active | closed
    Column("period_start", Date(), nullable=False),
    Column("period_end", Date(), nullable=False),  # inclusive
    Column("time_zone", String(64), nullable=False),
    Column("recurrence", String(20), nullable=False),  # none | weekly | monthly | quarterly
    Column("reward_type", String(20), nullable=False),  # points | cash
    Column("currency", String(3), nullable=True),
    Column("auto_approve", Boolean(), nullable=False),
    Column("definition", JsonDocument, nullable=False),  # metrics, payout rule, milestones
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # A fresh random token on every change ("" for campaigns older than it).
    Column("revision", String(32), nullable=False, server_default=""),
    Index("ix_campaigns_environment_status", "environment_id", "status", "id"),
)

campaign_participants = Table(
    "campaign_participants",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("group_id", String(40), nullable=True),  # the group it came in through, if any
    Column("targets", JsonDocument, nullable=False),  # metric key -> decimal string overrides
    Column("added_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("campaign_id", "employee_id"),
    Index("ix_campaign_participants_employee", "employee_id"),
)

campaign_progress = Table(
    "campaign_progress",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("period_start", Date(), nullable=False),
    Column("employee_id", String(40), nullable=False),
    # Text, not a JSON column: written and read as it is, without a codec or JSONB parsing.
    Column("metrics", Text(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("campaign_id", "period_start", "employee_id"),
    sqlite_with_rowid=False,  # SQLite: one B-tree per write (no rowid table beside the key)
)

campaign_milestones = Table(
    "campaign_milestones",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("period_start", Date(), nullable=False),
    Column("employee_id", String(40), nullable=False),
    Column("threshold", String(32), nullable=False),  # percent, decimal string
    Column("attainment", String(64), nullable=False),  # when first reached
    Column("reached_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("campaign_id", "period_start", "employee_id", "threshold"),
)

leaderboards = Table(
    "leaderboards",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("group_id", String(40), nullable=True),  # a per-group board; None = everyone
    Column("rank_by", String(100), nullable=False),  # a metric key, or "attainment"
    Column("top_n", Integer, nullable=False),
    Column("min_interval_s", Integer, nullable=False),  # coalescing of leaderboard.updated
    # {"tops": {period start: top N last announced}, "pending": [period starts],
    #  "current": {period start: {"top": top N now, "near": leading [[who, value]]}}}
    Column("announced", JsonDocument, nullable=False),
    Column("last_emitted_at", UtcDateTime(), nullable=True),
    Column("pending", Boolean(), nullable=False),  # top N changed, not yet announced
    # [{"from_rank", "to_rank", "points", "amount"}]: paid from the final standings
    Column("rank_rewards", JsonDocument, nullable=True),
    Index("ix_leaderboards_campaign", "campaign_id", "id"),
    Index("ix_leaderboards_pending", "pending"),
)

# One row per (campaign, period) whose payouts were calculated: the once-only claim of the
# period-end run, whichever worker gets there first.
campaign_settlements = Table(
    "campaign_settlements",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("period_start", Date(), nullable=False),
    Column("period_end", Date(), nullable=False),
    Column("settled_at", UtcDateTime(), nullable=False),
    Column("payout_count", Integer, nullable=False),
    PrimaryKeyConstraint("campaign_id", "period_start"),
)

campaign_payouts = Table(
    "campaign_payouts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("period_start", Date(), nullable=False),
    Column("period_end", Date(), nullable=False),
    # waiting_approval | approved | revoked (never paid) | reversed (approved, then undone)
    Column("status", String(20), nullable=False),
    Column("kind", String(20), nullable=False, server_default="period"),  # | milestone | rank
    # What makes the payout once-only within its kind: "" for the period payout, the
    # threshold for a milestone, the leaderboard id for a rank reward.
    Column("award_key", String(64), nullable=False, server_default=""),
    Column("rank", Integer, nullable=True),  # the rank a rank reward was paid for
    Column("reward_type", String(20), nullable=False),
    Column("points", Integer, nullable=True),
    Column("amount", String(64), nullable=True),  # decimal string, rounded by the one rule
    Column("currency", String(3), nullable=True),
    Column("value", String(64), nullable=False),  # the payout metric's value
    Column("attainment", String(64), nullable=False),
    Column("point_entry_id", String(40), nullable=True),  # the ledger credit, once approved
    Column("calculated_at", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("reversed_at", UtcDateTime(), nullable=True),
    Column("reversal_entry_id", String(40), nullable=True),  # the ledger debit (points)
    UniqueConstraint(
        "campaign_id",
        "period_start",
        "employee_id",
        "kind",
        "award_key",
        name="uq_campaign_payouts_award",
    ),
    Index("ix_campaign_payouts_environment", "environment_id", "id"),
    Index("ix_campaign_payouts_employee", "employee_id", "id"),
)

# The groups a campaign follows: their members are participants while they are members
# (and active); `targets` are what a member joining later starts with.
campaign_groups = Table(
    "campaign_groups",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("group_id", String(40), nullable=False),
    Column("targets", JsonDocument, nullable=False),
    Column("added_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("campaign_id", "group_id"),
    Index("ix_campaign_groups_group", "group_id"),
)

# Former participants: removed by name (`removed`: group changes do not bring them back),
# or deactivated (`deactivated`: reactivation restores them, with their targets).
campaign_departures = Table(
    "campaign_departures",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("employee_id", String(40), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("group_id", String(40), nullable=True),  # as on the participant row
    Column("targets", JsonDocument, nullable=False),
    Column("departed_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("campaign_id", "employee_id"),
    Index("ix_campaign_departures_employee", "employee_id"),
)
