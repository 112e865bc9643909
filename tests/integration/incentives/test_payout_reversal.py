"""Revoking approved payouts: points reversed by a ledger counter-entry (409 and nothing
written once spent), cash records marked reversed, per-item results in bulk, Connect."""

from __future__ import annotations

from typing import Any

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.incentives.payout_service import PayoutService
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.connect.seed import connect_headers
from tests.integration.delivery_helpers import events_of_type
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import AFTER, PERIOD, load, start_campaign


async def settled(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization, campaign_id: str
) -> dict[str, dict[str, Any]]:
    await PayoutService(container.db, ManualClock(AFTER), container.event_log).settle()
    listed = await client.get(
        "/api/v1/payouts",
        params={"campaign_id": campaign_id, "kind": "period"},
        headers=bearer(org),
    )
    return {p["employee_id"]: p for p in listed.json()["data"]}


async def balance(client: httpx.AsyncClient, org: CreatedOrganization, who: str) -> int:
    found = await client.get(f"/api/v1/employees/{who}/points/balance", headers=bearer(org))
    value: int = found.json()["balance"]
    return value


async def test_points_reversed_by_a_counter_entry_unless_spent_with_results_per_item(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada, bo, cy = [await make_employee(container, env, name=n) for n in ("Ada", "Bo", "Cy")]
    campaign = await start_campaign(
        client,
        org,
        [ada.id, bo.id, cy.id],
        period=PERIOD,
        reward={"type": "points"},
        payout={"metric": "revenue", "rate": "1"},
        milestones=[],
    )
    await load(
        container, env, [("V-1", ada.id, "300"), ("V-2", bo.id, "200"), ("V-3", cy.id, "50")]
    )
    made = await settled(client, container, org, campaign["id"])
    ids = {who: p["id"] for who, p in made.items()}
    approved = await client.post(
        "/api/v1/payouts/approve",
        json={"payout_ids": [ids[ada.id], ids[bo.id]]},
        headers=bearer(org),
    )
    assert approved.status_code == 200, approved.text
    # Bo spends 150 of his 200 points: his payout can no longer be taken back.
    spent = await client.post(
        f"/api/v1/employees/{bo.id}/points",
        json={"kind": "expire", "points": 150},
        headers=bearer(org),
    )
    assert spent.status_code in (200, 201), spent.text

    refused = await client.post(f"/api/v1/payouts/{ids[bo.id]}/revoke", headers=bearer(org))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "payout_points_spent"
    assert refused.json()["error"]["details"]["balance"] == 50
    assert await balance(client, org, bo.id) == 50
    still = await client.get(f"/api/v1/payouts/{ids[bo.id]}", headers=bearer(org))
    assert still.json()["status"] == "approved"

    bulk = await client.post(
        "/api/v1/payouts/revoke",
        json={"payout_ids": [ids[ada.id], ids[bo.id], ids[cy.id], "pay_nope", ids[ada.id]]},
        headers=bearer(org),
    )
    assert bulk.status_code == 200, bulk.text
    results = {r["payout_id"]: r for r in bulk.json()["results"]}
    assert bulk.json()["count"] == 2
    assert [r["payout_id"] for r in bulk.json()["results"]] == [
        ids[ada.id],
        ids[bo.id],
        ids[cy.id],
        "pay_nope",
    ]
    assert results[ids[ada.id]]["status"] == "reversed"
    assert results[ids[cy.id]]["status"] == "revoked"  # it was still waiting
    assert results[ids[bo.id]]["error"]["code"] == "payout_points_spent"
    assert results["pay_nope"]["error"]["code"] == "payout_not_found"

    reversed_ada = results[ids[ada.id]]["payout"]
    assert reversed_ada["reversed_at"] is not None
    assert await balance(client, org, ada.id) == 0
    entries = await client.get(f"/api/v1/employees/{ada.id}/points/entries", headers=bearer(org))
    [debit, credit] = entries.json()["data"]
    assert debit["id"] == reversed_ada["reversal_entry_id"]
    assert (debit["amount"], debit["reason"]) == (-300, "payout_reversal")
    assert debit["source"] == {"type": "payout", "id": ids[ada.id]}
    assert credit["amount"] == 300

    again = await client.post(f"/api/v1/payouts/{ids[ada.id]}/revoke", headers=bearer(org))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "payout_decided"
    unknown = await client.post("/api/v1/payouts/pay_nope/revoke", headers=bearer(org))
    assert unknown.status_code == 404
    # No catalog event can say "reversed": only the two approvals were announced.
    assert len(await events_of_type(client, org, "incentive.payout_processed")) == 2


async def test_a_reversed_cash_payout_shows_as_reversed_over_connect(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada")
    campaign = await start_campaign(
        client,
        org,
        [ada.id],
        period=PERIOD,
        auto_approve=True,
        payout={"metric": "revenue", "rate": "0.1"},
        milestones=[{"threshold_percent": 100, "reward": {"amount": "30"}}],
    )
    await load(container, env, [("W-1", ada.id, "1500")])
    made = await settled(client, container, org, campaign["id"])
    assert made[ada.id]["status"] == "approved"
    reversed_ = await client.post(
        f"/api/v1/payouts/{made[ada.id]['id']}/revoke", headers=bearer(org)
    )
    assert reversed_.status_code == 200, reversed_.text
    assert reversed_.json()["status"] == "reversed"
    assert reversed_.json()["reversal_entry_id"] is None

    headers = await connect_headers(container, org)
    listed = await client.get("/connect/v1/payouts", params={"user_id": ada.id}, headers=headers)
    assert listed.status_code == 200, listed.text
    by_kind = {p["kind"]: p for p in listed.json()["data"]}
    assert by_kind["period"]["status"] == "reversed"
    assert by_kind["period"]["amount"] == {"amount": "150.00", "currency": "EUR"}
    assert by_kind["milestone"]["status"] == "approved"
    assert by_kind["milestone"]["threshold_percent"] == "100"
    only = await client.get(
        "/connect/v1/payouts", params={"status": "reversed", "kind": "period"}, headers=headers
    )
    assert [p["id"] for p in only.json()["data"]] == [made[ada.id]["id"]]
