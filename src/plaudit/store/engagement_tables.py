"""Engagement tables: employees, groups, recognition, points, rewards, surveys, milestones.

Every row belongs to one environment (production or staging share nothing). Amounts of
money are decimal strings with a currency, never floats.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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

# Employees and groups --------------------------------------------------------------------------

employees = Table(
    "employees",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("external_id", String(200), nullable=True),
    Column("email", String(320), nullable=True),  # stored lower-cased: unique per environment
    Column("name", String(200), nullable=False),
    Column("department", String(200), nullable=True),
    Column("location", String(200), nullable=True),
    Column("manager_id", String(40), ForeignKey("employees.id"), nullable=True),
    Column("hire_date", Date, nullable=True),
    Column("birth_date", Date, nullable=True),
    Column("time_zone", String(64), nullable=False),  # IANA name, e.g. Europe/Paris
    Column("status", String(20), nullable=False),  # active | inactive
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("deactivated_at", UtcDateTime(), nullable=True),
    UniqueConstraint("environment_id", "external_id", name="uq_employees_external_id"),
    UniqueConstraint("environment_id", "email", name="uq_employees_email"),
    Index("ix_employees_environment", "environment_id", "id"),
    Index("ix_employees_environment_status", "environment_id", "status", "id"),
)

groups = Table(
    "groups",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # team | department | location | custom
    Column("description", String(1000), nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("environment_id", "name", name="uq_groups_name"),
    Index("ix_groups_environment", "environment_id", "id"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", String(40), ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("added_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("group_id", "employee_id"),
    Index("ix_group_members_employee", "employee_id"),
)

# Per-environment engagement settings; a missing row means the defaults.
engagement_settings = Table(
    "engagement_settings",
    metadata,
    Column("environment_id", String(40), ForeignKey("environments.id"), primary_key=True),
    Column("monthly_giving_budget", Integer, nullable=True),  # points; None = unlimited
    Column("onboarding_offsets_days", JsonDocument, nullable=False),  # e.g. [1, 30, 90]
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Recognition -----------------------------------------------------------------------------------

badges = Table(
    "badges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", String(1000), nullable=True),
    Column("icon_url", String(2048), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("environment_id", "name", name="uq_badges_name"),
    Index("ix_badges_environment", "environment_id", "id"),
)

recognitions = Table(
    "recognitions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("giver_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("message", Text, nullable=False),
    Column("badge_id", String(40), ForeignKey("badges.id"), nullable=True),
    Column("company_value", String(200), nullable=True),
    Column("points_per_receiver", Integer, nullable=False),
    Column("total_points", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_recognitions_environment", "environment_id", "id"),
    Index("ix_recognitions_giver", "giver_id", "id"),
)

recognition_receivers = Table(
    "recognition_receivers",
    metadata,
    Column("recognition_id", String(40), ForeignKey("recognitions.id"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    PrimaryKeyConstraint("recognition_id", "employee_id"),
    Index("ix_recognition_receivers_employee", "employee_id"),
)

shoutouts = Table(
    "shoutouts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("author_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_shoutouts_environment", "environment_id", "id"),
)

shoutout_mentions = Table(
    "shoutout_mentions",
    metadata,
    Column("shoutout_id", String(40), ForeignKey("shoutouts.id"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    PrimaryKeyConstraint("shoutout_id", "employee_id"),
)

# Points a giver has handed out in a calendar month (UTC), checked against the budget with
# a conditional update so concurrent awards cannot overspend.
giving_budget_usage = Table(
    "giving_budget_usage",
    metadata,
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("points_given", Integer, nullable=False),
    PrimaryKeyConstraint("employee_id", "month"),
)

# Points ledger ---------------------------------------------------------------------------------

# One row per employee who ever had points: the lock that serializes their ledger and the
# running total of their entries (kept equal to the sum in the same transaction).
point_accounts = Table(
    "point_accounts",
    metadata,
    Column("employee_id", String(40), ForeignKey("employees.id"), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Immutable: entries are only ever inserted.
point_entries = Table(
    "point_entries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # earn | spend | adjust | expire
    Column("amount", BigInteger, nullable=False),  # signed: credits > 0, debits < 0
    Column("balance_after", BigInteger, nullable=False),
    Column("reason", String(40), nullable=False),  # recognition | redemption | adjustment | ...
    Column("source_type", String(40), nullable=True),
    Column("source_id", String(200), nullable=True),
    Column("note", String(500), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_point_entries_employee", "employee_id", "id"),
    Index("ix_point_entries_environment", "environment_id", "id"),
)

# Rewards ---------------------------------------------------------------------------------------

rewards = Table(
    "rewards",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", String(2000), nullable=False, default=""),
    Column("point_cost", Integer, nullable=False),
    Column("value_amount", String(32), nullable=False),  # decimal string
    Column("currency", String(3), nullable=False),
    Column("stock", Integer, nullable=True),  # None = unlimited
    Column("voucher_valid_days", Integer, nullable=True),  # None = vouchers never expire
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_rewards_environment", "environment_id", "id"),
)

redemptions = Table(
    "redemptions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("reward_id", String(40), ForeignKey("rewards.id"), nullable=False),
    Column("points_spent", Integer, nullable=False),
    Column("point_entry_id", String(40), ForeignKey("point_entries.id"), nullable=False),
    # The client's Idempotency-Key: a retried request finds its redemption instead of a second.
    Column("idempotency_key", String(255), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("environment_id", "idempotency_key", name="uq_redemptions_idempotency_key"),
    Index("ix_redemptions_environment", "environment_id", "id"),
    Index("ix_redemptions_employee", "employee_id", "id"),
)

vouchers = Table(
    "vouchers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("redemption_id", String(40), ForeignKey("redemptions.id"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("code", String(64), nullable=False, unique=True),
    Column("value_amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_vouchers_environment", "environment_id", "id"),
)

# Surveys ---------------------------------------------------------------------------------------

surveys = Table(
    "surveys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", String(2000), nullable=False, default=""),
    Column("questions", JsonDocument, nullable=False),  # [{id, type, prompt, ...}]
    Column("anonymous", Boolean, nullable=False),
    Column("allow_edits", Boolean, nullable=False),
    Column("status", String(20), nullable=False),  # draft | published | completed
    Column("audience_groups", JsonDocument, nullable=False),  # group ids, as published
    Column("closes_at", UtcDateTime(), nullable=True),
    Column("published_at", UtcDateTime(), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("completion_reason", String(20), nullable=True),  # closed | all_responded
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_surveys_environment", "environment_id", "id"),
    Index("ix_surveys_status_closes", "status", "closes_at"),
)

# The audience, resolved to employees when the survey is published.
survey_targets = Table(
    "survey_targets",
    metadata,
    Column("survey_id", String(40), ForeignKey("surveys.id"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    PrimaryKeyConstraint("survey_id", "employee_id"),
)

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("survey_id", String(40), ForeignKey("surveys.id"), nullable=False),
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("answers", JsonDocument, nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("survey_id", "employee_id", name="uq_survey_responses_respondent"),
)

# Milestones ------------------------------------------------------------------------------------

# One row per milestone raised: the unique key makes the daily job exactly-once even when
# it runs twice, on two workers at once, or again after dying half-way.
milestone_occurrences = Table(
    "milestone_occurrences",
    metadata,
    Column("employee_id", String(40), ForeignKey("employees.id"), nullable=False),
    Column("kind", String(30), nullable=False),  # work_anniversary | birthday | onboarding
    Column("occurrence", String(20), nullable=False),  # year, or day offset for onboarding
    Column("environment_id", String(40), ForeignKey("environments.id"), nullable=False),
    Column("occurred_on", Date, nullable=False),
    # Null inside the raising transaction (the row is claimed before its event exists), and
    # once retention has deleted the event.
    Column("event_id", String(40), ForeignKey("events.id"), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("employee_id", "kind", "occurrence"),
    # Retention clears the link of an event that aged out (plaudit.events.retention).
    Index("ix_milestone_occurrences_event", "event_id"),
)

# Automatic sweeps of the milestone job, per UTC date: the start of the latest finished one
# tells the next sweep (on any worker) how far back to catch up after downtime.
milestone_runs = Table(
    "milestone_runs",
    metadata,
    Column("run_date", Date, primary_key=True),
    Column("status", String(20), nullable=False),  # running | finished
    Column("raised", Integer, nullable=False),  # by the day's finished sweeps together
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
)
