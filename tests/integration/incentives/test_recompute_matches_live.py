"""A random history of creates, updates, deletes and late corrections across periods: the
live aggregates equal a full recompute for every aggregation (SUM, COUNT, AVG, MAX,
COUNT DISTINCT), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.ingest.transactions import TransactionInput, TransactionState
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import start_campaign
from tests.integration.incentives.test_live_progress import live_and_recomputed

METRICS = [
    {"key": key, "source_metric": source, "aggregation": agg, "target": "100", **extra}
    for key, source, agg, extra in [
        ("total", "revenue", "sum", {"filters": {"stage": "won"}}),
        ("deals", "revenue", "count", {}),
        ("average", "revenue", "avg", {}),
        ("biggest", "revenue", "max", {"weight": "2"}),
        ("customers", "revenue", "count_distinct", {"distinct_attribute": "customer"}),
        ("calls", "calls", "sum", {}),
    ]
]
START = datetime(2026, 1, 1, tzinfo=UTC)


async def test_random_history_recomputes_to_the_live_numbers(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    people = [(await make_employee(container, env, name=f"P{i}")).id for i in range(4)]
    outsider = (await make_employee(container, env, name="Outsider")).id
    campaign = await start_campaign(
        client,
        org,
        people,
        period={
            "start": "2026-01-01",
            "end": "2026-03-31",
            "time_zone": "Europe/Berlin",
            "recurrence": "monthly",
        },
        metrics=METRICS,
        payout={"metric": "total", "rate": "0.1"},
        leaderboards=[{"rank_by": "attainment", "top_n": 2, "min_interval_s": 0}],
    )
    rng = random.Random(20260301)
    known: list[str] = []

    def state() -> TransactionState:
        return TransactionState(
            employee_id=rng.choice([*people, outsider]),
            metric=rng.choice(["revenue", "revenue", "calls"]),
            value=Decimal(rng.randint(-2000, 90000)) / 100,
            currency="EUR",
            # Some just outside the campaign, most inside, across the three months.
            occurred_at=START + timedelta(hours=rng.randint(-48, 24 * 92)),
            attributes={
                "stage": rng.choice(["won", "lost"]),
                "customer": rng.choice(["a", "b", "c", "d"]),
            },
        )

    for _ in range(40):
        batch: list[TransactionInput] = []
        for _ in range(rng.randint(1, 6)):
            roll = rng.random()
            if known and roll < 0.2:
                batch.append(TransactionInput(rng.choice(known), "delete", None))
            elif known and roll < 0.5:  # corrections, often late and into an earlier month
                batch.append(TransactionInput(rng.choice(known), "update", state()))
            else:
                known.append(f"T-{len(known)}")
                batch.append(TransactionInput(known[-1], "create", state()))
        now = container.clock.now()

        def unit(conn: Any, batch: list[TransactionInput] = batch, now: datetime = now) -> None:
            container.transaction_log.apply(conn, env, "src_random", batch, now=now)

        await container.db.write(unit)

    live, fresh = await live_and_recomputed(container, campaign["id"])
    assert live == fresh
    assert len({key[1] for key in live}) == 3  # three monthly periods were touched
    assert {key[3] for key in live} == {m["key"] for m in METRICS}
