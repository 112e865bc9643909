"""Milestone rewards (paid once when reached, kept after a correction), rank rewards from
the final standings (ties each paid, per-group boards, once with two workers), and their
validation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.incentives.payout_service import PayoutService
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.delivery_helpers import events_of_type
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import (
    AFTER,
    PERIOD,
    campaign_body,
    campaign_counts,
    load,
    start_campaign,
)


async def payouts(
    client: httpx.AsyncClient, org: CreatedOrganization, **params: str
) -> list[dict[str, Any]]:
    listed = await client.get("/api/v1/payouts", params=params, headers=bearer(org))
    assert listed.status_code == 200, listed.text
    found: list[dict[str, Any]] = listed.json()["data"]
    return sorted(found, key=lambda p: (p["employee_id"], p["kind"], p["calculated_at"]))


async def test_milestone_rewards_are_paid_once_and_kept_after_a_correction(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada")
    campaign = await start_campaign(
        client,
        org,
        [ada.id],
        period=PERIOD,
        milestones=[
            {"threshold_percent": 50, "reward": {"points": 100}},
            {"threshold_percent": 100, "reward": {"amount": "25.005"}},
            {"threshold_percent": 150},  # no reward: the event only
        ],
    )
    await load(container, env, [("M-1", ada.id, "600")])  # 60 %
    [first] = await payouts(client, org, campaign_id=campaign["id"])
    assert first["kind"] == "milestone"
    assert first["threshold_percent"] == "50"
    assert (first["status"], first["reward_type"], first["points"]) == (
        "waiting_approval",
        "points",
        100,
    )
    assert first["attainment"] == "0.6"

    await load(container, env, [("M-1", ada.id, "100")], action="update")  # back to 10 %
    progress = await client.get(
        f"/api/v1/campaigns/{campaign['id']}/participants/{ada.id}", headers=bearer(org)
    )
    assert progress.json()["attainment"] == "0.1"
    assert [p["id"] for p in await payouts(client, org, kind="milestone")] == [first["id"]]

    await load(container, env, [("M-1", ada.id, "700")], action="update")  # over 50 % again
    await load(container, env, [("M-2", ada.id, "900")])  # 160 %
    made = await payouts(client, org, campaign_id=campaign["id"])
    assert [(p["threshold_percent"], p["points"], p["amount"]) for p in made] == [
        ("50", 100, None),
        ("100", None, {"amount": "25.00", "currency": "EUR"}),  # half-even to cents
    ]
    reached = await events_of_type(client, org, "program.milestone_reached")
    assert len(reached) == 3  # 50, 100 and 150, each once
    assert await events_of_type(client, org, "incentive.payout_processed") == []


async def test_auto_approved_milestone_reward_credits_points_in_the_same_load(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada")
    await start_campaign(client, org, [ada.id], period=PERIOD, auto_approve=True)
    await load(container, env, [("A-1", ada.id, "1000")])  # 100 %: both thresholds
    balance = await client.get(f"/api/v1/employees/{ada.id}/points/balance", headers=bearer(org))
    assert balance.json()["balance"] == 600
    processed = await events_of_type(client, org, "incentive.payout_processed")
    assert sorted(e["data"]["points"] for e in processed) == [100, 500]
    earned = await events_of_type(client, org, "points.earned")
    assert sorted(e["data"]["points"] for e in earned) == [100, 500]
    assert all(p["status"] == "approved" for p in await payouts(client, org, kind="milestone"))


def board(**overrides: Any) -> dict[str, Any]:
    return {"rank_by": "revenue", "top_n": 3, "min_interval_s": 0, **overrides}


async def test_rank_rewards_pay_the_final_standings_once_ties_each_and_per_group(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada, bo, cy, dee = [
        await make_employee(container, env, name=name) for name in ("Ada", "Bo", "Cy", "Dee")
    ]
    group = await client.post(
        "/api/v1/groups", json={"name": "South", "kind": "team"}, headers=bearer(org)
    )
    group_id = group.json()["id"]
    await client.put(
        f"/api/v1/groups/{group_id}/members",
        json={"employee_ids": [cy.id, dee.id]},
        headers=bearer(org),
    )
    campaign = await start_campaign(
        client,
        org,
        [ada.id, bo.id, cy.id, dee.id],
        period=PERIOD,
        reward={"type": "points"},
        payout={"metric": "revenue", "rate": "0"},  # no period payouts: ranks only
        milestones=[],
        leaderboards=[
            board(
                rewards=[
                    {"rank": 1, "points": 500},
                    {"from_rank": 2, "to_rank": 3, "points": 100},
                ]
            ),
            board(group_id=group_id, top_n=1, rewards=[{"rank": 1, "points": 50}]),
        ],
    )
    assert campaign["leaderboards"][0]["rewards"] == [
        {"from_rank": 1, "to_rank": 1, "points": 500, "amount": None},
        {"from_rank": 2, "to_rank": 3, "points": 100, "amount": None},
    ]
    # Ada and Bo tie for 1 (rank 2 is skipped), Cy is 3rd, Dee has nothing to show.
    await load(
        container, env, [("R-1", ada.id, "900"), ("R-2", bo.id, "900"), ("R-3", cy.id, "400")]
    )
    service = PayoutService(container.db, ManualClock(AFTER), container.event_log)
    await asyncio.gather(service.settle(), service.settle())  # two workers at once
    assert await service.settle() == 0
    made = await payouts(client, org, campaign_id=campaign["id"], kind="rank")
    everyone, south = (b["id"] for b in campaign["leaderboards"])
    assert sorted(
        (p["employee_id"], p["leaderboard_id"], p["rank"], p["points"]) for p in made
    ) == (
        sorted(
            [
                (ada.id, everyone, 1, 500),
                (bo.id, everyone, 1, 500),
                (cy.id, everyone, 3, 100),
                (cy.id, south, 1, 50),
            ]
        )
    )
    assert {p["value"] for p in made if p["employee_id"] == ada.id} == {"900"}
    assert all(p["status"] == "waiting_approval" for p in made)


@pytest.mark.parametrize(
    ("rewards", "code"),
    [
        ([{"rank": 0, "points": 5}], "validation_error"),
        ([{"rank": 1, "points": -5}], "validation_error"),
        ([{"rank": 1, "amount": "0"}], "validation_error"),
        ([{"rank": 1, "amount": "abc"}], "validation_error"),
        ([{"rank": 1}], "invalid_campaign"),
        ([{"rank": 1, "points": 5, "amount": "5"}], "invalid_campaign"),
        ([{"rank": 1, "from_rank": 1, "to_rank": 2, "points": 5}], "validation_error"),
        ([{"from_rank": 3, "to_rank": 2, "points": 5}], "invalid_campaign"),
        ([{"rank": 4, "points": 5}], "invalid_campaign"),  # beyond top_n 3
        ([{"rank": 1, "points": 5}, {"from_rank": 1, "to_rank": 2, "points": 1}], "duplicate_rank"),
    ],
)
async def test_bad_rank_rewards_are_422_and_write_nothing(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    rewards: list[dict[str, Any]],
    code: str,
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    body = campaign_body(leaderboards=[board(rewards=rewards)])
    response = await client.post("/api/v1/campaigns", json=body, headers=bearer(org))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert await campaign_counts(container, env) == (0, 0)


async def test_an_amount_reward_needs_a_cash_campaign(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    for body in (
        campaign_body(
            reward={"type": "points"},
            payout={"metric": "revenue", "rate": "1"},
            milestones=[{"threshold_percent": 50, "reward": {"amount": "10"}}],
        ),
        campaign_body(
            reward={"type": "points"},
            payout={"metric": "revenue", "rate": "1"},
            leaderboards=[board(rewards=[{"rank": 1, "amount": "10"}])],
        ),
        campaign_body(
            milestones=[{"threshold_percent": 50, "reward": {"points": 1, "amount": "1"}}]
        ),
    ):
        response = await client.post("/api/v1/campaigns", json=body, headers=bearer(org))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_campaign"
