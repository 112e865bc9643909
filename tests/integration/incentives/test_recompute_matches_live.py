"""A random history of creates, updates, deletes and late corrections across periods: the
live aggregates equal a full recompute for every aggregation (SUM, COUNT, AVG, MAX,
COUNT DISTINCT), so do the counted distinct values, and every board's kept top N equals a
ranking of everyone, on SQLite and PostgreSQL; also with participants removed, added back,
following a group and deactivated mid-history."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import orjson
from sqlalchemy import select, update

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.incentive_rules import top
from plaudit.incentives.announcements import shown_top, standings
from plaudit.incentives.progress import (
    load_campaign,
    recompute_distinct,
    stored_distinct,
)
from plaudit.ingest.transactions import TransactionInput, TransactionState, decimal_text
from plaudit.store.incentive_tables import campaign_progress, campaigns, leaderboards
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import create_campaign, start_campaign
from tests.integration.incentives.test_live_progress import live_and_recomputed
from tests.integration.incentives.test_participant_changes import leave, member

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


BOARDS = [
    {"rank_by": "attainment", "top_n": 2, "min_interval_s": 0},
    {"rank_by": "biggest", "top_n": 1, "min_interval_s": 0},
    {"rank_by": "customers", "top_n": 2, "min_interval_s": 3600},
]
MONTHLY = {
    "start": "2026-01-01",
    "end": "2026-03-31",
    "time_zone": "Europe/Berlin",
    "recurrence": "monthly",
}

RosterStep = Callable[[], Awaitable[None]]


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
        period=MONTHLY,
        metrics=METRICS,
        payout={"metric": "total", "rate": "0.1"},
        leaderboards=BOARDS,
    )
    await random_history(container, env, campaign["id"], [*people, outsider], {})
    boards = await assert_live_is_recomputed(container, campaign["id"])
    assert len(boards) == 9  # three boards keep three periods each
    live, _ = await live_and_recomputed(container, campaign["id"])
    assert len({key[1] for key in live}) == 3  # three monthly periods were touched


async def test_participants_joining_and_leaving_mid_history_keep_live_equal_to_recompute(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    """Removed by name and added back, a group member joining and one leaving, an employee
    deactivated and reactivated: after each, and at the end, live equals a recompute and
    every kept top N equals a ranking of everyone."""
    env = org.environment_ids[Environment.PRODUCTION]
    people = [(await make_employee(container, env, name=f"P{i}")).id for i in range(4)]
    stays, joins = [(await make_employee(container, env, name=n)).id for n in ("G0", "G1")]
    outsider = (await make_employee(container, env, name="Outsider")).id
    group = (
        await client.post(
            "/api/v1/groups", json={"name": "Team", "kind": "team"}, headers=bearer(org)
        )
    ).json()["id"]
    await member(client, org, group, stays)
    created = await create_campaign(
        client,
        org,
        period=MONTHLY,
        metrics=METRICS,
        payout={"metric": "total", "rate": "0.1"},
        leaderboards=BOARDS,
    )
    path = f"/api/v1/campaigns/{created['id']}"
    added = await client.post(
        f"{path}/participants",
        json={"employee_ids": people, "group_ids": [group]},
        headers=bearer(org),
    )
    assert added.json()["added"] == sorted([*people, stays])
    assert (await client.post(f"{path}/activate", headers=bearer(org))).status_code == 200

    async def call(method: str, url: str, **kwargs: Any) -> None:
        answer = await client.request(method, url, headers=bearer(org), **kwargs)
        assert answer.status_code in (200, 201, 204), answer.text

    steps: dict[int, RosterStep] = {
        8: lambda: call("DELETE", f"{path}/participants/{people[1]}"),
        16: lambda: member(client, org, group, joins),
        24: lambda: leave(client, org, group, stays),
        32: lambda: call("POST", f"/api/v1/employees/{people[2]}/deactivate"),
        40: lambda: call("POST", f"/api/v1/employees/{people[2]}/activate"),
        48: lambda: call("POST", f"{path}/participants", json={"employee_ids": [people[1]]}),
        52: lambda: call("DELETE", f"{path}/participants/{people[0]}"),
    }
    everyone = [*people, stays, joins, outsider]
    await random_history(container, env, created["id"], everyone, steps)
    shown = await client.get(path, headers=bearer(org))
    assert shown.json()["participant_count"] == 4  # P1, P2, P3 named, G1 by the group
    assert await assert_live_is_recomputed(container, created["id"])


async def test_campaigns_of_one_shape_each_keep_live_equal_to_recompute(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    """Campaigns with equal schedules and metrics but other targets (a participant's own
    too), weights and participants move their rows together in a batch (one working-out
    per shape, attainments shared where targets and weights agree), one in another time
    zone does not: each keeps live equal to a recompute and its own boards (by attainment,
    which targets and weights change) equal to a ranking of everyone."""
    env = org.environment_ids[Environment.PRODUCTION]
    people = [(await make_employee(container, env, name=f"P{i}")).id for i in range(5)]
    twin_metrics = [
        {**m, "target": str(50 + 25 * i), "weight": str(1 + i % 3)} for i, m in enumerate(METRICS)
    ]
    elsewhere = {**MONTHLY, "time_zone": "America/New_York"}
    made = [
        await start_campaign(client, org, who, period=period, metrics=metrics, **common)
        for who, period, metrics in [
            (people[:3], MONTHLY, METRICS),
            (people[1:], MONTHLY, twin_metrics),
            (people[2:], MONTHLY, METRICS),
            (people, elsewhere, METRICS),
        ]
        for common in [{"payout": {"metric": "total", "rate": "0.1"}, "leaderboards": BOARDS}]
    ]
    twin = f"/api/v1/campaigns/{made[1]['id']}/participants"

    async def call(method: str, url: str, **kwargs: Any) -> None:
        answer = await client.request(method, url, headers=bearer(org), **kwargs)
        assert answer.status_code in (200, 201, 204), answer.text

    own = {"employee_id": people[2], "targets": {"total": "40", "customers": "3"}}
    steps: dict[int, RosterStep] = {
        12: lambda: call("DELETE", f"{twin}/{people[2]}"),
        24: lambda: call(
            "PUT", f"/api/v1/campaigns/{made[2]['id']}/targets", json={"targets": [own]}
        ),
        36: lambda: call("POST", twin, json={"employee_ids": [people[2]]}),
    }
    await random_history(container, env, made[0]["id"], people, steps)
    for campaign in made:
        assert await assert_live_is_recomputed(container, campaign["id"])


async def random_history(
    container: Container,
    env: str,
    campaign_id: str,
    employees: list[str],
    steps: Mapping[int, RosterStep],
) -> None:
    """60 random batches of creates, updates and deletes for `employees`; before a round
    in `steps` that roster change runs, and live must then still equal a recompute."""
    rng = random.Random(20260301)
    known: list[str] = []

    def state() -> TransactionState:
        return TransactionState(
            employee_id=rng.choice(employees),
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

    for round_ in range(60):
        if round_ == 30:  # a campaign from before counted distinct values: rebuilt on a load
            await forget_distinct_values(container, campaign_id)
        if round_ in steps:
            await steps[round_]()
            await assert_live_is_recomputed(container, campaign_id)
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


async def assert_live_is_recomputed(container: Container, campaign_id: str) -> list[Any]:
    """Live aggregates and counted distinct values equal a recompute, and every kept top N
    equals a ranking of everyone; returns the (kept, ranked) pairs."""
    live, fresh = await live_and_recomputed(container, campaign_id)
    assert live == fresh
    if live:
        assert {key[3] for key in live} == {m["key"] for m in METRICS}
    counted, recounted, boards = await distinct_values_and_boards(container, campaign_id)
    assert counted == recounted
    for kept, ranked in boards:
        assert kept == ranked
    return list(boards)


async def forget_distinct_values(container: Container, campaign_id: str) -> None:
    def unit(conn: Any) -> None:
        t = campaign_progress.c
        for row in conn.execute(select(campaign_progress).where(t.campaign_id == campaign_id)):
            bare = {key: found[:4] for key, found in orjson.loads(row.metrics).items()}
            conn.execute(
                campaign_progress.update()
                .where(
                    t.campaign_id == row.campaign_id,
                    t.period_start == row.period_start,
                    t.employee_id == row.employee_id,
                )
                .values(metrics=orjson.dumps(bare).decode())
            )
        conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(revision=""))

    await container.db.write(unit)


async def distinct_values_and_boards(container: Container, campaign_id: str) -> Any:
    """Counted distinct values, recounted ones, and each board's kept top N beside a
    ranking of everyone, per period it keeps."""

    def unit(conn: Any) -> Any:
        row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one()
        campaign = load_campaign(conn, row)
        pairs = []
        for board in conn.execute(
            select(leaderboards).where(leaderboards.c.campaign_id == campaign_id)
        ).all():
            for period in board.announced["current"]:
                start = datetime.fromisoformat(period).date()
                ranked = top(standings(conn, campaign, start, board), board.top_n)
                pairs.append(
                    (
                        shown_top(board, start),
                        [[e.rank, e.participant, decimal_text(e.value)] for e in ranked],
                    )
                )
        return stored_distinct(conn, campaign_id), recompute_distinct(conn, campaign), pairs

    return await container.db.read_with(unit)
