"""What the recognition, badge and shoutout tests read back: events, rows and balances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.engagement.directory import EmployeeRecord
from plaudit.engagement.ledger import balance_of
from plaudit.store.engagement_tables import giving_budget_usage
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.store_snapshot import environment_rows


def env_of(org: CreatedOrganization) -> str:
    return org.environment_ids[Environment.PRODUCTION]


async def employees(
    container: Container, org: CreatedOrganization, *names: str
) -> list[EmployeeRecord]:
    return [
        await make_employee(container, env_of(org), name=name, email=f"{name.lower()}@example.com")
        for name in names
    ]


async def events_of(
    client: httpx.AsyncClient, org: CreatedOrganization, event_type: str
) -> list[dict[str, Any]]:
    """The `data` of the organization's events of one type, oldest first."""
    response = await client.get(
        "/api/v1/events",
        params={"type": event_type, "limit": 200, "order": "asc"},
        headers=bearer(org),
    )
    assert response.status_code == 200, response.text
    return [event["data"] for event in response.json()["data"]]


@dataclass(frozen=True)
class Written:
    """Counts of everything an engagement action could write, for one environment."""

    events: int
    recognitions: int
    receivers: int
    point_entries: int
    budget_usage: int
    shoutouts: int
    mentions: int


async def written(container: Container, org: CreatedOrganization) -> Written:
    rows = await environment_rows(container, env_of(org))
    usage = rows["giving_budget_usage"]
    points_given = giving_budget_usage.c.keys().index("points_given")
    return Written(
        events=len(rows["events"]),
        recognitions=len(rows["recognitions"]),
        receivers=len(rows["recognition_receivers"]),
        point_entries=len(rows["point_entries"]),
        budget_usage=sum(row[points_given] for row in usage),
        shoutouts=len(rows["shoutouts"]),
        mentions=len(rows["shoutout_mentions"]),
    )


async def balance(container: Container, employee: EmployeeRecord) -> int:
    return await container.db.read_with(lambda conn: balance_of(conn, employee.id))
