"""Incentive progress: a COUNT DISTINCT aggregate's counted values live in its progress row

Revision ID: 0012

`campaign_distinct_values` (one row per aggregate and value) is folded into the metric's
entry in `campaign_progress.metrics`: [sum, count, max, distinct count, {value key: count}].
A batch of loads already reads and writes the touched participants' rows, so the counts
move with them instead of costing an upsert (and a written B-tree page) per value. The
rows are moved in Python, the same on both databases; a downgrade moves them back.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_PROGRESS = sa.text("SELECT campaign_id, period_start, employee_id, metrics FROM campaign_progress")
_REWRITE = sa.text(
    "UPDATE campaign_progress SET metrics = :metrics WHERE campaign_id = :c "
    "AND period_start = :p AND employee_id = :e"
)


def upgrade() -> None:
    conn = op.get_bind()
    counted: dict[tuple[Any, ...], dict[str, dict[str, int]]] = defaultdict(dict)
    for c, p, e, m, v, n in conn.execute(
        sa.text(
            "SELECT campaign_id, period_start, employee_id, metric_key, value_key, count "
            "FROM campaign_distinct_values"
        )
    ):
        counted[(c, str(p), e)].setdefault(m, {})[v] = n
    rewrites = []
    for c, p, e, text in conn.execute(_PROGRESS):
        mine = counted.get((c, str(p), e))
        if not mine:
            continue
        metrics = orjson.loads(text)
        for metric_key, values in mine.items():
            if metric_key in metrics:
                metrics[metric_key] = [*metrics[metric_key][:4], values]
        rewrites.append({"metrics": orjson.dumps(metrics).decode(), "c": c, "p": p, "e": e})
    if rewrites:
        conn.execute(_REWRITE, rewrites)
    op.drop_table("campaign_distinct_values")


def downgrade() -> None:
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
    conn = op.get_bind()
    values = []
    rewrites = []
    for c, p, e, text in conn.execute(_PROGRESS):
        metrics = orjson.loads(text)
        kept = False
        for metric_key, found in metrics.items():
            if len(found) > 4:
                values += [
                    {"c": c, "p": p, "e": e, "m": metric_key, "v": v, "n": n}
                    for v, n in found[4].items()
                ]
                metrics[metric_key] = found[:4]
                kept = True
        if kept:
            rewrites.append({"metrics": orjson.dumps(metrics).decode(), "c": c, "p": p, "e": e})
    if values:
        conn.execute(
            sa.text(
                "INSERT INTO campaign_distinct_values (campaign_id, period_start, employee_id, "
                "metric_key, value_key, count) VALUES (:c, :p, :e, :m, :v, :n)"
            ),
            values,
        )
    if rewrites:
        conn.execute(_REWRITE, rewrites)
