"""Parallel requests against one balance and one stock: the ledger never goes negative,
stock never below zero, and the sum of the entries is always the balance. Run with
`PLAUDIT_TEST_DATABASE_URL=postgresql://...` these race on real row locks."""

from __future__ import annotations

import asyncio

import httpx

from plaudit.app_container import Container
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.rewards_helpers import (
    balance,
    create_reward,
    entries_sum,
    env_id,
    events_of,
    grant,
    outcomes,
)

REDEEM = "/api/v1/redemptions"


async def test_parallel_redemptions_never_overdraw_the_balance(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    ada = await make_employee(container, env_id(org))
    await grant(client, org, ada.id, 100)
    card = await create_reward(client, org, point_cost=30, stock=None)

    responses = await asyncio.gather(
        *(
            client.post(
                REDEEM, headers=bearer(org), json={"employee_id": ada.id, "reward_id": card["id"]}
            )
            for _ in range(10)
        )
    )
    assert outcomes(list(responses)) == {"created": 3, "409 insufficient_points": 7}
    assert await balance(client, org, ada.id) == 10
    assert await entries_sum(container, ada.id) == 10

    entries = await client.get(
        f"/api/v1/employees/{ada.id}/points/entries", headers=bearer(org), params={"limit": 200}
    )
    after = [e["balance_after"] for e in entries.json()["data"]]
    assert after == [10, 40, 70, 100]  # newest first: each spend left the balance it saw
    assert min(after) >= 0
    assert len(await events_of(client, org, "reward.redeemed")) == 3
    assert len(await events_of(client, org, "voucher.issued")) == 3
    codes = {r.json()["voucher"]["code"] for r in responses if r.status_code == 201}
    assert len(codes) == 3


async def test_parallel_redeemers_cannot_take_more_than_the_stock(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    people = [await make_employee(container, env_id(org), name=f"P{i}") for i in range(6)]
    for person in people:
        await grant(client, org, person.id, 100)
    card = await create_reward(client, org, point_cost=30, stock=2)

    responses = await asyncio.gather(
        *(
            client.post(
                REDEEM,
                headers=bearer(org),
                json={"employee_id": person.id, "reward_id": card["id"]},
            )
            for person in people
        )
    )
    assert outcomes(list(responses)) == {"created": 2, "409 out_of_stock": 4}
    reward = await client.get(f"/api/v1/rewards/{card['id']}", headers=bearer(org))
    assert reward.json()["stock"] == 0
    winners = {r.json()["employee_id"] for r in responses if r.status_code == 201}
    for person in people:
        expected = 70 if person.id in winners else 100
        assert await balance(client, org, person.id) == expected
        assert await entries_sum(container, person.id) == expected
    assert len(await events_of(client, org, "reward.redeemed")) == 2


async def test_parallel_retries_with_one_idempotency_key_redeem_once(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    bob = await make_employee(container, env_id(org))
    await grant(client, org, bob.id, 100)
    card = await create_reward(client, org, point_cost=30, stock=5)

    responses = await asyncio.gather(
        *(
            client.post(
                REDEEM,
                headers=bearer(org) | {"Idempotency-Key": "checkout-42"},
                json={"employee_id": bob.id, "reward_id": card["id"]},
            )
            for _ in range(5)
        )
    )
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 4
    assert await balance(client, org, bob.id) == 70
    reward = await client.get(f"/api/v1/rewards/{card['id']}", headers=bearer(org))
    assert reward.json()["stock"] == 4
    listed = await client.get(REDEEM, headers=bearer(org), params={"employee_id": bob.id})
    assert len(listed.json()["data"]) == 1
    assert len(await events_of(client, org, "reward.redeemed")) == 1
