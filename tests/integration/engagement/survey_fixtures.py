"""What the survey tests share: groups written to the store, surveys made over the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import Connection

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.ids import new_id
from plaudit.engagement.directory import EmployeeRecord
from plaudit.store.engagement_tables import group_members, groups
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee

QUESTIONS: list[dict[str, Any]] = [
    {"type": "rating", "prompt": "How is your week?"},
    {"type": "nps", "prompt": "Would you recommend working here?"},
    {"type": "single_choice", "prompt": "Office?", "options": ["Paris", "Lyon"]},
    {
        "type": "multiple_choice",
        "prompt": "Perks?",
        "options": ["Gym", "Food", "Books"],
        "max_selections": 2,
        "required": False,
    },
    {"type": "text", "prompt": "Anything else?", "required": False},
]


def env_id(org: CreatedOrganization) -> str:
    return org.environment_ids[Environment.PRODUCTION]


async def employees(
    container: Container, org: CreatedOrganization, count: int, **columns: Any
) -> list[EmployeeRecord]:
    return [
        await make_employee(container, env_id(org), name=f"Employee {n}", **columns)
        for n in range(count)
    ]


async def make_group(
    container: Container, org: CreatedOrganization, members: Sequence[EmployeeRecord]
) -> str:
    group_id = new_id("grp")
    now = container.clock.now()

    def unit(conn: Connection) -> None:
        conn.execute(
            groups.insert().values(
                id=group_id,
                environment_id=env_id(org),
                name=f"Group {group_id}",
                kind="team",
                description="",
                created_at=now,
                updated_at=now,
            )
        )
        if members:
            conn.execute(
                group_members.insert(),
                [{"group_id": group_id, "employee_id": m.id, "added_at": now} for m in members],
            )

    await container.db.write(unit)
    return group_id


async def create_survey(
    client: httpx.AsyncClient, org: CreatedOrganization, **fields: Any
) -> dict[str, Any]:
    body = {"title": "Pulse", "questions": QUESTIONS, **fields}
    created = await client.post("/api/v1/surveys", json=body, headers=bearer(org))
    assert created.status_code == 201, created.text
    survey: dict[str, Any] = created.json()
    return survey


async def published_survey(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    targets: Sequence[EmployeeRecord],
    **fields: Any,
) -> dict[str, Any]:
    survey = await create_survey(client, org, **fields)
    published = await client.post(
        f"/api/v1/surveys/{survey['id']}/publish",
        json={"employee_ids": [t.id for t in targets]},
        headers=bearer(org),
    )
    assert published.status_code == 200, published.text
    result: dict[str, Any] = published.json()
    return result


def answers_for(survey: dict[str, Any], *values: Any) -> list[dict[str, Any]]:
    """Answers in question order; pass None to leave a question out."""
    return [
        {"question_id": question["id"], "value": value}
        for question, value in zip(survey["questions"], values, strict=False)
        if value is not None
    ]


async def respond(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    survey: dict[str, Any],
    employee_id: str,
    answers: list[dict[str, Any]],
) -> httpx.Response:
    return await client.post(
        f"/api/v1/surveys/{survey['id']}/responses",
        json={"employee_id": employee_id, "answers": answers},
        headers=bearer(org),
    )


async def event_data(
    client: httpx.AsyncClient, org: CreatedOrganization, event_type: str
) -> list[dict[str, Any]]:
    """Payloads of the environment's events of one type, oldest first."""
    listed = await client.get(
        "/api/v1/events",
        params={"type": event_type, "order": "asc", "limit": 200},
        headers=bearer(org),
    )
    assert listed.status_code == 200, listed.text
    return [event["data"] for event in listed.json()["data"]]
