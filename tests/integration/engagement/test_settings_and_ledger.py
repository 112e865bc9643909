"""Engagement settings over the API, and the ledger's balance rule on the real database."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Connection, func, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.errors import Conflict
from plaudit.engagement.ledger import post_entry
from plaudit.store.engagement_tables import point_entries
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee


async def test_settings_default_then_change(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    got = await client.get("/api/v1/engagement-settings", headers=bearer(org))
    assert got.status_code == 200
    assert got.json()["monthly_giving_budget"] is None
    assert got.json()["onboarding_offsets_days"] == [1, 30, 90]

    changed = await client.patch(
        "/api/v1/engagement-settings",
        headers=bearer(org),
        json={"monthly_giving_budget": 300, "onboarding_offsets_days": [60, 7, 7]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["monthly_giving_budget"] == 300
    assert changed.json()["onboarding_offsets_days"] == [7, 60]

    # Staging shares nothing with production.
    staging = await client.get(
        "/api/v1/engagement-settings", headers=bearer(org, Environment.STAGING)
    )
    assert staging.json()["monthly_giving_budget"] is None

    # Omitting a field keeps it; null lifts the cap.
    lifted = await client.patch(
        "/api/v1/engagement-settings", headers=bearer(org), json={"monthly_giving_budget": None}
    )
    assert lifted.json() == {
        **changed.json(),
        "monthly_giving_budget": None,
        "updated_at": lifted.json()["updated_at"],
    }


@pytest.mark.parametrize(
    "body",
    [
        {"monthly_giving_budget": -1},
        {"onboarding_offsets_days": [0]},
        {"onboarding_offsets_days": [3651]},
        {"unknown": 1},
    ],
)
async def test_bad_settings_are_refused(
    client: httpx.AsyncClient, org: CreatedOrganization, body: dict[str, object]
) -> None:
    response = await client.patch("/api/v1/engagement-settings", headers=bearer(org), json=body)
    assert response.status_code == 422, response.text
    after = await client.get("/api/v1/engagement-settings", headers=bearer(org))
    assert after.json()["updated_at"] is None


async def test_ledger_refuses_to_go_negative_and_keeps_the_sum(
    container: Container, org: CreatedOrganization
) -> None:
    employee = await make_employee(container, org.environment_ids[Environment.PRODUCTION])
    now = container.clock.now()

    def credit(conn: Connection) -> int:
        return post_entry(
            conn, employee, kind="earn", amount=100, reason="other", now=now
        ).balance_after

    def overspend(conn: Connection) -> None:
        post_entry(conn, employee, kind="spend", amount=-150, reason="redemption", now=now)

    assert await container.db.write(credit) == 100
    with pytest.raises(Conflict) as refused:
        await container.db.write(overspend)
    assert refused.value.code == "insufficient_points"
    assert refused.value.details["balance"] == 100

    def total(conn: Connection) -> int:
        return int(
            conn.execute(
                select(func.sum(point_entries.c.amount)).where(
                    point_entries.c.employee_id == employee.id
                )
            ).scalar_one()
        )

    assert await container.db.read_with(total) == 100
