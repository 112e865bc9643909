"""Migration 0010 folds the per-metric progress rows into one row per participant and back,
carrying every live number across: on a database of its own (the session's stays at head),
a random history is loaded, taken down to 0009 and up again, and the numbers never move."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import orjson
from alembic import command
from sqlalchemy import Connection, select, text

from plaudit.app import create_app
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.api_keys import Environment
from plaudit.domain.incentive_rules import Aggregate
from plaudit.incentives.progress_rows import aggregate
from plaudit.store import migrate
from plaudit.store.database import Database
from plaudit.store.incentive_tables import campaign_progress
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import start_campaign
from tests.integration.incentives.test_recompute_matches_live import (
    BOARDS,
    METRICS,
    MONTHLY,
    assert_live_is_recomputed,
    random_history,
)

Numbers = dict[tuple[Any, ...], Aggregate]


async def downgrade(db: Database, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = migrate._config(connection)
        command.downgrade(config, revision)

    async with db.transaction() as conn:
        await conn.run_sync(run)


def folded(conn: Connection) -> Numbers:
    """Every stored aggregate (those at zero too), from the rows of 0010."""
    out: Numbers = {}
    for row in conn.execute(select(campaign_progress)):
        for metric_key, found in orjson.loads(row.metrics).items():
            out[(row.campaign_id, row.period_start, row.employee_id, metric_key)] = aggregate(found)
    return out


def per_metric(conn: Connection) -> Numbers:
    """Every stored aggregate, from the rows of 0006 (one per metric)."""
    rows = conn.execute(
        text(
            'SELECT campaign_id, period_start, employee_id, metric_key, "sum", "count", "max", '
            "distinct_count FROM campaign_progress"
        )
    )
    return {
        (c, p if isinstance(p, date) else date.fromisoformat(p), e, m): Aggregate(
            Decimal(total), count, None if top is None else Decimal(top), distinct
        )
        for c, p, e, m, total, count, top, distinct in rows
    }


async def test_progress_carries_across_the_migration_both_ways(own_database_url: str) -> None:
    app = create_app(Settings(database_url=own_database_url), with_workers=False)  # type: ignore[call-arg]
    container: Container = app.state.container
    async with app.router.lifespan_context(app):
        org = await container.tenancy.create_organization("Migrating")
        env = org.environment_ids[Environment.PRODUCTION]
        people = [(await make_employee(container, env, name=f"P{i}")).id for i in range(4)]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://plaudit.test") as client:
            campaign = await start_campaign(
                client,
                org,
                people,
                period=MONTHLY,
                metrics=METRICS,
                payout={"metric": "total", "rate": "0.1"},
                leaderboards=BOARDS,
            )
        await random_history(container, env, campaign["id"], people, {})
        live = await container.db.read_with(folded)
        assert len({key[:3] for key in live}) > 4  # several participants over several months
        assert len({key[3] for key in live}) == len(METRICS)

        await downgrade(container.db, "0009")
        assert await container.db.read_with(per_metric) == live

        await migrate.upgrade(container.db)
        assert await container.db.read_with(folded) == live
        await assert_live_is_recomputed(container, campaign["id"])
