"""Incentive progress: one row per (campaign, period, participant), every metric in it

Revision ID: 0010

The rows of 0006 (one per metric) are folded into the new ones in SQL, so the live numbers
carry across as they were: `metrics` is the JSON text metric key -> [sum, count, max,
distinct count], and `updated_at` the latest of the metrics'. The old table is renamed out
of the way first (on PostgreSQL its primary key index too: index names are per schema).
On SQLite both the new rows and the counted distinct values are WITHOUT ROWID tables (a
write touches one B-tree, not a table and its key index); a downgrade leaves the distinct
values so, which holds the same rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from plaudit.store.types import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FOLDED = {
    "sqlite": 'json_group_object(metric_key, json_array("sum", "count", "max", distinct_count))',
    "postgresql": (
        'json_object_agg(metric_key, json_build_array("sum", "count", "max", distinct_count))::text'
    ),
}


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _aside(table: str) -> None:
    op.rename_table(table, f"{table}_old")
    if _postgres():
        op.execute(f"ALTER INDEX pk_{table} RENAME TO pk_{table}_old")


def upgrade() -> None:
    _aside("campaign_progress")
    op.create_table(
        "campaign_progress",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("employee_id", sa.String(length=40), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_progress_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "period_start", "employee_id", name=op.f("pk_campaign_progress")
        ),
        sqlite_with_rowid=False,
    )
    folded = _FOLDED["postgresql" if _postgres() else "sqlite"]
    op.execute(
        "INSERT INTO campaign_progress (campaign_id, period_start, employee_id, metrics, "  # noqa: S608
        f"updated_at) SELECT campaign_id, period_start, employee_id, {folded}, max(updated_at) "
        "FROM campaign_progress_old GROUP BY campaign_id, period_start, employee_id"
    )
    op.drop_table("campaign_progress_old")
    if not _postgres():
        _distinct_values_without_rowid()


def _distinct_values_without_rowid() -> None:
    """SQLite: the counted distinct values keyed by their primary key alone (one B-tree to
    write per value instead of a table and its key index)."""
    _aside("campaign_distinct_values")
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
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO campaign_distinct_values SELECT * FROM campaign_distinct_values_old")
    op.drop_table("campaign_distinct_values_old")


def downgrade() -> None:
    _aside("campaign_progress")
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
    if _postgres():
        parts = "m.value ->> 0, (m.value ->> 1)::int, m.value ->> 2, (m.value ->> 3)::int"
        each = "json_each(p.metrics::json)"
    else:
        parts = ", ".join(f"json_extract(m.value, '$[{i}]')" for i in range(4))
        each = "json_each(p.metrics)"
    op.execute(
        'INSERT INTO campaign_progress (campaign_id, period_start, employee_id, metric_key, "sum", '  # noqa: S608
        '"count", "max", distinct_count, updated_at) SELECT p.campaign_id, p.period_start, '
        f"p.employee_id, m.key, {parts}, p.updated_at FROM campaign_progress_old AS p, {each} AS m"
    )
    op.drop_table("campaign_progress_old")
