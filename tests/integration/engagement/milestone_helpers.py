"""Reading back what the milestone job raised, for the milestone tests."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from sqlalchemy import Connection, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.store.engagement_tables import milestone_occurrences
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer

MILESTONE_TYPES = ("milestone.work_anniversary", "milestone.birthday", "milestone.onboarding")


async def milestone_events(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    event_type: str | None = None,
    env: Environment = Environment.PRODUCTION,
) -> list[dict[str, Any]]:
    """Every milestone event of the environment, oldest first, through the API."""
    response = await client.get(
        "/api/v1/events",
        params={"type": [event_type] if event_type else list(MILESTONE_TYPES), "limit": 200},
        headers=bearer(org, env),
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["data"]
    assert not response.json()["has_more"]
    return list(reversed(events))


def raised_keys(events: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """(type, employee id, occurred_on) of each event, counted: every count must be 1."""
    return Counter(
        (event["type"], event["data"]["employee"]["id"], event["data"]["occurred_on"])
        for event in events
    )


async def occurrence_rows(container: Container, environment_id: str) -> list[Any]:
    def read(conn: Connection) -> list[Any]:
        return list(
            conn.execute(
                select(milestone_occurrences).where(
                    milestone_occurrences.c.environment_id == environment_id
                )
            ).all()
        )

    return await container.db.read_with(read)
