"""The monthly giving budget under concurrent awards, and its reset at the month's turn."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.domain.errors import Conflict
from plaudit.engagement.recognitions import AwardRequest
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.recognition_support import (
    balance,
    employees,
    env_of,
    events_of,
    written,
)


async def test_concurrent_awards_cannot_overspend_the_budget(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    giver, *receivers = await employees(container, org, "Alice", "Bob", "Carmen", "Dev")
    settings = await client.patch(
        "/api/v1/engagement-settings", json={"monthly_giving_budget": 100}, headers=bearer(org)
    )
    assert settings.status_code == 200

    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/recognitions",
                json={
                    "giver_id": giver.id,
                    "receiver_ids": [receivers[n % len(receivers)].id],
                    "message": f"Thanks #{n}",
                    "points": 10,
                },
                headers=bearer(org),
            )
            for n in range(20)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 10, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["error"]["code"] == "giving_budget_exceeded"
        assert refused.json()["error"]["details"]["remaining"] == 0
    budget = await client.get(f"/api/v1/employees/{giver.id}/giving-budget", headers=bearer(org))
    assert budget.json()["given"] == 100
    assert budget.json()["remaining"] == 0
    counts = await written(container, org)
    assert (counts.recognitions, counts.point_entries, counts.budget_usage) == (10, 10, 100)
    assert sum([await balance(container, r) for r in receivers]) == 100
    assert len(await events_of(client, org, "recognition.awarded")) == 10
    assert len(await events_of(client, org, "points.earned")) == 10


async def test_the_budget_resets_in_the_next_utc_month(
    container: Container, org: CreatedOrganization
) -> None:
    giver, receiver = await employees(container, org, "Alice", "Bob")
    environment_id = env_of(org)
    await container.engagement_settings.update(environment_id, monthly_giving_budget=30)
    last_minute = datetime(2031, 1, 31, 23, 59, tzinfo=UTC)
    request = AwardRequest(giver.id, (receiver.id,), "Thanks", points=30)

    await container.recognitions.award(environment_id, request, now=last_minute)
    with pytest.raises(Conflict) as refused:
        await container.recognitions.award(environment_id, request, now=last_minute)
    assert refused.value.code == "giving_budget_exceeded"
    assert refused.value.details["month"] == "2031-01"

    next_month = last_minute + timedelta(minutes=1)
    award = await container.recognitions.award(environment_id, request, now=next_month)
    assert award.recognition.created_at == next_month
    assert await balance(container, receiver) == 60

    january = await container.giving_budget.get(environment_id, giver.id, now=last_minute)
    february = await container.giving_budget.get(environment_id, giver.id, now=next_month)
    assert (january.month, january.given, january.remaining) == ("2031-01", 30, 0)
    assert (february.month, february.given, february.remaining) == ("2031-02", 30, 0)
    march = await container.giving_budget.get(
        environment_id, giver.id, now=next_month + timedelta(days=31)
    )
    assert (march.month, march.given, march.remaining) == ("2031-03", 0, 30)
