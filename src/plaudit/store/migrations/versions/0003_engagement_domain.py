"""Engagement domain: employees, groups, recognition, points, rewards, surveys, milestones

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from plaudit.store.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "milestone_runs",
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("raised", sa.Integer(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("run_date", name=op.f("pk_milestone_runs")),
    )
    op.create_table(
        "badges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("icon_url", sa.String(length=2048), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_badges_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
        sa.UniqueConstraint("environment_id", "name", name="uq_badges_name"),
    )
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.create_index("ix_badges_environment", ["environment_id", "id"], unique=False)

    op.create_table(
        "employees",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("manager_id", sa.String(length=40), nullable=True),
        sa.Column("hire_date", sa.Date(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("deactivated_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_employees_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["employees.id"], name=op.f("fk_employees_manager_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint("environment_id", "email", name="uq_employees_email"),
        sa.UniqueConstraint("environment_id", "external_id", name="uq_employees_external_id"),
    )
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.create_index("ix_employees_environment", ["environment_id", "id"], unique=False)
        batch_op.create_index(
            "ix_employees_environment_status", ["environment_id", "status", "id"], unique=False
        )

    op.create_table(
        "engagement_settings",
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("monthly_giving_budget", sa.Integer(), nullable=True),
        sa.Column(
            "onboarding_offsets_days",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_engagement_settings_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("environment_id", name=op.f("pk_engagement_settings")),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_groups_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("environment_id", "name", name="uq_groups_name"),
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index("ix_groups_environment", ["environment_id", "id"], unique=False)

    op.create_table(
        "rewards",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("point_cost", sa.Integer(), nullable=False),
        sa.Column("value_amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("voucher_valid_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_rewards_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.create_index("ix_rewards_environment", ["environment_id", "id"], unique=False)

    op.create_table(
        "surveys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column(
            "questions", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("allow_edits", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "audience_groups",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("closes_at", UtcDateTime(), nullable=True),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.Column("completion_reason", sa.String(length=20), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_surveys_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index("ix_surveys_environment", ["environment_id", "id"], unique=False)
        batch_op.create_index("ix_surveys_status_closes", ["status", "closes_at"], unique=False)

    op.create_table(
        "giving_budget_usage",
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("points_given", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_giving_budget_usage_employee_id_employees"),
        ),
        sa.PrimaryKeyConstraint("employee_id", "month", name=op.f("pk_giving_budget_usage")),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_group_members_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_members_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "employee_id", name=op.f("pk_group_members")),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index("ix_group_members_employee", ["employee_id"], unique=False)

    op.create_table(
        "milestone_occurrences",
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("occurrence", sa.String(length=20), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_milestone_occurrences_employee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_milestone_occurrences_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_milestone_occurrences_event_id_events")
        ),
        sa.PrimaryKeyConstraint(
            "employee_id", "kind", "occurrence", name=op.f("pk_milestone_occurrences")
        ),
    )
    op.create_table(
        "point_accounts",
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_point_accounts_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_point_accounts_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("employee_id", name=op.f("pk_point_accounts")),
    )
    op.create_table(
        "point_entries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=True),
        sa.Column("source_id", sa.String(length=200), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_point_entries_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_point_entries_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_entries")),
    )
    with op.batch_alter_table("point_entries", schema=None) as batch_op:
        batch_op.create_index("ix_point_entries_employee", ["employee_id", "id"], unique=False)
        batch_op.create_index(
            "ix_point_entries_environment", ["environment_id", "id"], unique=False
        )

    op.create_table(
        "recognitions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("giver_id", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("badge_id", sa.String(length=40), nullable=True),
        sa.Column("company_value", sa.String(length=200), nullable=True),
        sa.Column("points_per_receiver", sa.Integer(), nullable=False),
        sa.Column("total_points", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["badge_id"], ["badges.id"], name=op.f("fk_recognitions_badge_id_badges")
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_recognitions_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["giver_id"], ["employees.id"], name=op.f("fk_recognitions_giver_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognitions")),
    )
    with op.batch_alter_table("recognitions", schema=None) as batch_op:
        batch_op.create_index("ix_recognitions_environment", ["environment_id", "id"], unique=False)
        batch_op.create_index("ix_recognitions_giver", ["giver_id", "id"], unique=False)

    op.create_table(
        "shoutouts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("author_id", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["employees.id"], name=op.f("fk_shoutouts_author_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_shoutouts_environment_id_environments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shoutouts")),
    )
    with op.batch_alter_table("shoutouts", schema=None) as batch_op:
        batch_op.create_index("ix_shoutouts_environment", ["environment_id", "id"], unique=False)

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("survey_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("submitted_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_survey_responses_employee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_responses_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("survey_id", "employee_id", name="uq_survey_responses_respondent"),
    )
    op.create_table(
        "survey_targets",
        sa.Column("survey_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_survey_targets_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_targets_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("survey_id", "employee_id", name=op.f("pk_survey_targets")),
    )
    op.create_table(
        "recognition_receivers",
        sa.Column("recognition_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_recognition_receivers_employee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["recognition_id"],
            ["recognitions.id"],
            name=op.f("fk_recognition_receivers_recognition_id_recognitions"),
        ),
        sa.PrimaryKeyConstraint(
            "recognition_id", "employee_id", name=op.f("pk_recognition_receivers")
        ),
    )
    with op.batch_alter_table("recognition_receivers", schema=None) as batch_op:
        batch_op.create_index("ix_recognition_receivers_employee", ["employee_id"], unique=False)

    op.create_table(
        "redemptions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("reward_id", sa.String(length=40), nullable=False),
        sa.Column("points_spent", sa.Integer(), nullable=False),
        sa.Column("point_entry_id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_redemptions_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_redemptions_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["point_entry_id"],
            ["point_entries.id"],
            name=op.f("fk_redemptions_point_entry_id_point_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_redemptions_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint(
            "environment_id", "idempotency_key", name="uq_redemptions_idempotency_key"
        ),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_redemptions_employee", ["employee_id", "id"], unique=False)
        batch_op.create_index("ix_redemptions_environment", ["environment_id", "id"], unique=False)

    op.create_table(
        "shoutout_mentions",
        sa.Column("shoutout_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_shoutout_mentions_employee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["shoutout_id"],
            ["shoutouts.id"],
            name=op.f("fk_shoutout_mentions_shoutout_id_shoutouts"),
        ),
        sa.PrimaryKeyConstraint("shoutout_id", "employee_id", name=op.f("pk_shoutout_mentions")),
    )
    op.create_table(
        "vouchers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("environment_id", sa.String(length=40), nullable=False),
        sa.Column("redemption_id", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("value_amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_vouchers_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_vouchers_environment_id_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["redemption_id"],
            ["redemptions.id"],
            name=op.f("fk_vouchers_redemption_id_redemptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("code", name=op.f("uq_vouchers_code")),
    )
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.create_index("ix_vouchers_environment", ["environment_id", "id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_index("ix_vouchers_environment")

    op.drop_table("vouchers")
    op.drop_table("shoutout_mentions")
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_redemptions_environment")
        batch_op.drop_index("ix_redemptions_employee")

    op.drop_table("redemptions")
    with op.batch_alter_table("recognition_receivers", schema=None) as batch_op:
        batch_op.drop_index("ix_recognition_receivers_employee")

    op.drop_table("recognition_receivers")
    op.drop_table("survey_targets")
    op.drop_table("survey_responses")
    with op.batch_alter_table("shoutouts", schema=None) as batch_op:
        batch_op.drop_index("ix_shoutouts_environment")

    op.drop_table("shoutouts")
    with op.batch_alter_table("recognitions", schema=None) as batch_op:
        batch_op.drop_index("ix_recognitions_giver")
        batch_op.drop_index("ix_recognitions_environment")

    op.drop_table("recognitions")
    with op.batch_alter_table("point_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_point_entries_environment")
        batch_op.drop_index("ix_point_entries_employee")

    op.drop_table("point_entries")
    op.drop_table("point_accounts")
    op.drop_table("milestone_occurrences")
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index("ix_group_members_employee")

    op.drop_table("group_members")
    op.drop_table("giving_budget_usage")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_surveys_status_closes")
        batch_op.drop_index("ix_surveys_environment")

    op.drop_table("surveys")
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_index("ix_rewards_environment")

    op.drop_table("rewards")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_index("ix_groups_environment")

    op.drop_table("groups")
    op.drop_table("engagement_settings")
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_index("ix_employees_environment_status")
        batch_op.drop_index("ix_employees_environment")

    op.drop_table("employees")
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.drop_index("ix_badges_environment")

    op.drop_table("badges")
    op.drop_table("milestone_runs")
