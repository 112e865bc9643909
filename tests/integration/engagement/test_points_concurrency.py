"""Parallel debits and credits on one balance through the points API: the balance never
goes negative and always equals the sum of the entries (real row locks on PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx

from plaudit.app_container import Container
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.rewards_helpers import (
    balance,
    entries_sum,
    env_id,
    grant,
    outcomes,
)


async def test_parallel_expiries_and_credits_keep_the_sum(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    cy = await make_employee(container, env_id(org))
    await grant(client, org, cy.id, 100)
    url = f"/api/v1/employees/{cy.id}/points"

    expiries = await asyncio.gather(
        *(
            client.post(url, headers=bearer(org), json={"kind": "expire", "points": 30})
            for _ in range(10)
        )
    )
    assert outcomes(list(expiries)) == {"created": 3, "409 insufficient_points": 7}
    assert await balance(client, org, cy.id) == 10

    mixed = await asyncio.gather(
        *(
            client.post(
                url,
                headers=bearer(org),
                json={"kind": "adjust", "points": 5 if i % 2 else -5},
            )
            for i in range(20)
        )
    )
    assert all(r.status_code in (201, 409) for r in mixed)
    credits = sum(1 for i, r in enumerate(mixed) if i % 2 and r.status_code == 201)
    debits = sum(1 for i, r in enumerate(mixed) if not i % 2 and r.status_code == 201)
    assert credits == 10  # credits never fail
    assert await balance(client, org, cy.id) == 10 + 5 * (credits - debits)
    assert await entries_sum(container, cy.id) == 10 + 5 * (credits - debits)
    audit = await client.get("/api/v1/points/audit", headers=bearer(org))
    assert audit.json()["consistent"] is True
