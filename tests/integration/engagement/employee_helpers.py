"""Small HTTP helpers shared by the employee, import and group tests."""

from __future__ import annotations

from typing import Any

import httpx

from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer

EMPLOYEES = "/api/v1/employees"
IMPORT = "/api/v1/employees/import"
GROUPS = "/api/v1/groups"


async def create_employee(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    env: Environment = Environment.PRODUCTION,
    **fields: Any,
) -> dict[str, Any]:
    body = {"name": "Ada Lovelace", **fields}
    response = await client.post(EMPLOYEES, json=body, headers=bearer(org, env))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def all_employees(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    env: Environment = Environment.PRODUCTION,
    **params: Any,
) -> list[dict[str, Any]]:
    """Every employee of the environment, following cursors."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await client.get(EMPLOYEES, params=query, headers=bearer(org, env))
        assert page.status_code == 200, page.text
        found.extend(page.json()["data"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found


async def events_of(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    event_type: str,
    env: Environment = Environment.PRODUCTION,
) -> list[dict[str, Any]]:
    """Events of one type, oldest first."""
    response = await client.get(
        "/api/v1/events", params={"type": event_type, "limit": 200}, headers=bearer(org, env)
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["data"]
    return sorted(events, key=lambda e: str(e["id"]))


def ref(employee: dict[str, Any]) -> dict[str, Any]:
    """The `employee_ref` an event carries for this employee."""
    return {k: employee[k] for k in ("id", "external_id", "email", "name")}
