"""Transactions loaded through an inbound source move campaigns live: progress, milestones,
leaderboards, and a full recompute gives exactly the live numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.incentives.progress import load_campaign, metric_values, recompute, stored
from plaudit.store.incentive_tables import campaigns
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.delivery_helpers import events_of_type
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import start_campaign
from tests.integration.ingest.helpers import create_source, deal, push


async def live_and_recomputed(container: Container, campaign_id: str) -> tuple[Any, Any]:
    def unit(conn: Any) -> tuple[Any, Any]:
        row = conn.execute(campaigns.select().where(campaigns.c.id == campaign_id)).one()
        campaign = load_campaign(conn, row)
        return (
            metric_values(campaign, stored(conn, campaign_id)),
            metric_values(campaign, recompute(conn, campaign)),
        )

    found: tuple[Any, Any] = await container.db.read_with(unit)
    return found


def sums(aggregates: Any) -> dict[str, Decimal]:
    return {key[2]: value for key, value in aggregates.items()}


async def test_pushed_deals_move_progress_milestones_and_the_board(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada", email="ada@example.com")
    bo = await make_employee(container, env, name="Bo", email="bo@example.com")
    outsider = await make_employee(container, env, name="Cy", email="cy@example.com")
    campaign = await start_campaign(client, org, [ada.id, bo.id])
    source = await create_source(client, org)

    first = await push(
        client,
        source,
        [
            deal("D-1", "ada@example.com", 600),
            deal("D-2", "bo@example.com", 200),
            deal("D-3", "bo@example.com", 999, stage="lost"),  # filtered out
            deal("D-4", "cy@example.com", 5000),  # not a participant
            deal("D-5", "ada@example.com", 1, closed_at="2025-12-31T23:59:59Z"),  # before
        ],
    )
    assert first.json()["accepted"] == 5
    live, fresh = await live_and_recomputed(container, campaign["id"])
    assert live == fresh
    assert sums(live) == {ada.id: Decimal(600), bo.id: Decimal(200)}
    assert outsider.id not in sums(live)

    [half] = await events_of_type(client, org, "program.milestone_reached")
    assert half["data"]["employee"]["id"] == ada.id
    assert half["data"]["milestone"] == {
        "threshold_percent": 50,
        "reward": {"points": 100, "amount": None},
    }
    assert half["data"]["attainment"] == 0.6
    assert half["data"]["campaign"] == {"id": campaign["id"], "name": "Q1 revenue push"}

    # A late correction takes Ada below 50 %: the milestone stays reached, nothing new.
    await push(client, source, [deal("D-1", "ada@example.com", 300, action="update")])
    live, fresh = await live_and_recomputed(container, campaign["id"])
    assert live == fresh
    assert sums(live)[ada.id] == Decimal(300)
    assert len(await events_of_type(client, org, "program.milestone_reached")) == 1

    # Climbing back over 50 % and on past 100 % raises only the 100 % milestone.
    await push(client, source, [deal("D-6", "ada@example.com", "750.50")])
    reached = await events_of_type(client, org, "program.milestone_reached")
    assert sorted(e["data"]["milestone"]["threshold_percent"] for e in reached) == [50, 100]

    # Deleting Bo's deal and moving Ada's to Bo: both sides move.
    await push(
        client,
        source,
        [
            deal("D-2", "bo@example.com", 0, action="delete"),
            deal("D-6", "bo@example.com", "750.50", action="update"),
        ],
    )
    live, fresh = await live_and_recomputed(container, campaign["id"])
    assert live == fresh
    assert sums(live) == {ada.id: Decimal(300), bo.id: Decimal("750.50")}

    boards = await events_of_type(client, org, "leaderboard.updated")
    latest = boards[0]["data"]  # newest first
    assert latest["leaderboard_id"] == campaign["leaderboards"][0]["id"]
    assert [(t["rank"], t["employee"]["id"], t["value"]) for t in latest["top"]] == [
        (1, bo.id, "750.5"),
        (2, ada.id, "300"),
    ]


async def test_unknown_employee_is_rejected_and_moves_nothing(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada", email="ada@example.com")
    campaign = await start_campaign(client, org, [ada.id])
    source = await create_source(client, org)
    answer = await push(client, source, [deal("D-1", "ghost@example.com", 900)])
    assert answer.json()["rejected"] == 1
    live, _ = await live_and_recomputed(container, campaign["id"])
    assert live == {}
    assert await events_of_type(client, org, "program.milestone_reached") == []


async def test_activation_counts_what_was_loaded_before(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada", email="ada@example.com")
    source = await create_source(client, org)
    await push(client, source, [deal("D-1", "ada@example.com", 1500)])
    campaign = await start_campaign(client, org, [ada.id])
    live, _ = await live_and_recomputed(container, campaign["id"])
    assert sums(live) == {ada.id: Decimal(1500)}
    reached = await events_of_type(client, org, "program.milestone_reached")
    assert sorted(e["data"]["milestone"]["threshold_percent"] for e in reached) == [50, 100]
