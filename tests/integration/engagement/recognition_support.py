"""What the recognition, badge and shoutout tests read back: events, rows and balances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, func, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.engagement.directory import EmployeeRecord
from plaudit.engagement.ledger import balance_of
from plaudit.store.engagement_tables import (
    employees as employees_table,
)
from plaudit.store.engagement_tables import (
    giving_budget_usage,
    point_entries,
    recognition_receivers,
    recognitions,
    shoutout_mentions,
    shoutouts,
)
from plaudit.store.tables import events
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee


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
    environment_id = env_of(org)

    def count(conn: Connection, query: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())

    def unit(conn: Connection) -> Written:
        mine = select(recognitions.c.id).where(recognitions.c.environment_id == environment_id)
        posts = select(shoutouts.c.id).where(shoutouts.c.environment_id == environment_id)
        return Written(
            events=count(
                conn, select(events.c.id).where(events.c.environment_id == environment_id)
            ),
            recognitions=count(conn, mine),
            receivers=count(
                conn,
                select(recognition_receivers.c.employee_id).where(
                    recognition_receivers.c.recognition_id.in_(mine)
                ),
            ),
            point_entries=count(
                conn,
                select(point_entries.c.id).where(point_entries.c.environment_id == environment_id),
            ),
            budget_usage=_usage_in(conn, environment_id),
            shoutouts=count(conn, posts),
            mentions=count(
                conn,
                select(shoutout_mentions.c.employee_id).where(
                    shoutout_mentions.c.shoutout_id.in_(posts)
                ),
            ),
        )

    return await container.db.read_with(unit)


def _usage_in(conn: Connection, environment_id: str) -> int:
    """Points given in every month by the environment's employees."""
    total = conn.execute(
        select(func.coalesce(func.sum(giving_budget_usage.c.points_given), 0)).where(
            giving_budget_usage.c.employee_id.in_(
                select(employees_table.c.id).where(
                    employees_table.c.environment_id == environment_id
                )
            )
        )
    ).scalar_one()
    return int(total)


async def balance(container: Container, employee: EmployeeRecord) -> int:
    return await container.db.read_with(lambda conn: balance_of(conn, employee.id))
