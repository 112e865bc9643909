"""Payouts: calculated once at period end (also with two runs at once), gate and rounding,
approval credits points and raises events, auto-approval, revoke, reads by user and group."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.incentives.payout_service import PayoutService
from plaudit.store.incentive_tables import campaign_payouts
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.connect.seed import connect_headers
from tests.integration.delivery_helpers import events_of_type
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import AFTER, DURING, PERIOD, load, start_campaign


async def payouts_of(container: Container, campaign_id: str) -> list[Any]:
    rows = await container.db.read_with(
        lambda c: c.execute(
            campaign_payouts.select()
            .where(campaign_payouts.c.campaign_id == campaign_id)
            .order_by(campaign_payouts.c.employee_id)
        ).all()
    )
    return list(rows)


async def test_points_payouts_settle_once_then_approve_and_revoke(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada")
    bo = await make_employee(container, env, name="Bo")
    cy = await make_employee(container, env, name="Cy")
    dee = await make_employee(container, env, name="Dee")
    campaign = await start_campaign(
        client,
        org,
        [ada.id, bo.id, cy.id, dee.id],
        period=PERIOD,
        reward={"type": "points"},
        payout={"metric": "revenue", "rate": "0.5", "min_attainment_percent": "50"},
        milestones=[],
    )
    # Ada 1 501 -> 750.5 points -> 750 (half-even); Bo 499 is under the 50 % gate;
    # Cy 1 503 -> 751.5 -> 752; Dee nothing.
    await load(
        container, env, [("P-1", ada.id, "1501"), ("P-2", bo.id, "499"), ("P-3", cy.id, "1503")]
    )
    service = PayoutService(container.db, ManualClock(AFTER), container.event_log)
    await PayoutService(container.db, ManualClock(DURING), container.event_log).settle()
    assert await payouts_of(container, campaign["id"]) == []  # the period is still running
    # Two runs at once (two workers): one calculates, the other finds it settled.
    await asyncio.gather(service.settle(), service.settle())
    assert await service.settle() == 0
    rows = await payouts_of(container, campaign["id"])
    assert sorted((r.employee_id, r.points, r.status) for r in rows) == sorted(
        [(ada.id, 750, "waiting_approval"), (cy.id, 752, "waiting_approval")]
    )
    by_who = {r.employee_id: r.id for r in rows}

    listed = await client.get(
        "/api/v1/payouts",
        params={"campaign_id": campaign["id"], "status": "waiting_approval"},
        headers=bearer(org),
    )
    assert {p["id"] for p in listed.json()["data"]} == set(by_who.values())

    # Approving a mix of waiting and unknown payouts writes nothing.
    bad = await client.post(
        "/api/v1/payouts/approve",
        json={"payout_ids": [by_who[ada.id], "pay_nope"]},
        headers=bearer(org),
    )
    assert bad.status_code == 404
    assert await events_of_type(client, org, "incentive.payout_processed") == []

    approved = await client.post(
        "/api/v1/payouts/approve", json={"payout_ids": [by_who[ada.id]]}, headers=bearer(org)
    )
    assert approved.json() == {"count": 1}, approved.text
    points = await client.get(f"/api/v1/employees/{ada.id}/points/balance", headers=bearer(org))
    assert points.json()["balance"] == 750
    [earned] = await events_of_type(client, org, "points.earned")
    assert earned["data"]["reason"] == "payout"
    assert earned["data"]["source"] == {"type": "payout", "id": by_who[ada.id]}
    [processed] = await events_of_type(client, org, "incentive.payout_processed")
    assert processed["data"]["payout_id"] == by_who[ada.id]
    assert processed["data"]["points"] == 750
    assert processed["data"]["amount"] is None
    assert processed["data"]["period"] == {"start": "2030-01-01", "end": "2030-03-31"}
    assert processed["data"]["attainment"] == 1.501

    revoked = await client.post(
        "/api/v1/payouts/revoke", json={"payout_ids": [by_who[cy.id]]}, headers=bearer(org)
    )
    assert revoked.json()["count"] == 1
    assert revoked.json()["results"][0]["status"] == "revoked"
    again = await client.post(f"/api/v1/payouts/{by_who[cy.id]}/revoke", headers=bearer(org))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "payout_decided"
    one = await client.get(f"/api/v1/payouts/{by_who[cy.id]}", headers=bearer(org))
    assert one.json()["status"] == "revoked"
    assert one.json()["points"] == 752


async def test_cash_auto_approved_and_connect_reads_by_user_and_group(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada")
    bo = await make_employee(container, env, name="Bo")
    group = await client.post(
        "/api/v1/groups", json={"name": "North", "kind": "team"}, headers=bearer(org)
    )
    await client.put(
        f"/api/v1/groups/{group.json()['id']}/members",
        json={"employee_ids": [bo.id]},
        headers=bearer(org),
    )
    campaign = await start_campaign(
        client,
        org,
        [ada.id, bo.id],
        period=PERIOD,
        auto_approve=True,
        payout={
            "metric": "revenue",
            "slabs": [
                {"from": "0", "to": "1000", "rate": "0.05"},
                {"from": "1000", "to": None, "rate": "0.10"},
            ],
            "cap": "120",
        },
        milestones=[],
    )
    await load(container, env, [("C-1", ada.id, "1500.05"), ("C-2", bo.id, "3000")])
    await PayoutService(container.db, ManualClock(AFTER), container.event_log).settle()
    processed = await events_of_type(client, org, "incentive.payout_processed")
    amounts = {e["data"]["employee"]["id"]: e["data"]["amount"] for e in processed}
    # Ada: 50 + 500.05 * 0.10 = 100.005 -> 100.00 (half-even); Bo: 250 capped at 120.
    assert amounts == {
        ada.id: {"amount": "100.00", "currency": "EUR"},
        bo.id: {"amount": "120.00", "currency": "EUR"},
    }
    assert await events_of_type(client, org, "points.earned") == []

    headers = await connect_headers(container, org)
    mine = await client.get("/connect/v1/payouts", params={"user_id": ada.id}, headers=headers)
    assert mine.status_code == 200, mine.text
    [ada_payout] = mine.json()["data"]
    assert ada_payout["status"] == "approved"
    assert ada_payout["amount"] == {"amount": "100.00", "currency": "EUR"}
    north = await client.get(
        "/connect/v1/payouts",
        params={"group_id": group.json()["id"], "period": "2030-01-01"},
        headers=headers,
    )
    assert [p["employee_id"] for p in north.json()["data"]] == [bo.id]
    one = await client.get(f"/connect/v1/payouts/{ada_payout['id']}", headers=headers)
    assert one.json() == ada_payout
    other = await container.tenancy.create_organization("Other")
    hidden = await client.get(
        f"/connect/v1/payouts/{ada_payout['id']}", headers=await connect_headers(container, other)
    )
    assert hidden.status_code == 404
    listed = await client.get(
        "/connect/v1/payouts",
        params={"campaign_id": campaign["id"]},
        headers=await connect_headers(container, other),
    )
    assert listed.json()["data"] == []
