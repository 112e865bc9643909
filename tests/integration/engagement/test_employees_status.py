"""Activation and deactivation: the events they raise, idempotency, and what they block."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Connection

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.errors import Conflict
from plaudit.engagement.directory import load_employees
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.employee_helpers import (
    EMPLOYEES,
    create_employee,
    events_of,
    ref,
)


async def test_creating_active_raises_activated_and_inactive_raises_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    hired = await create_employee(client, org, external_id="E-1", email="ada@example.com")
    await create_employee(client, org, name="Dormant", status="inactive")
    events = await events_of(client, org, "employee.activated")
    assert [e["data"] for e in events] == [
        {
            "employee": ref(hired),
            "status": "active",
            "changed_at": events[0]["data"]["changed_at"],
            "reason": "created",
        }
    ]
    assert events[0]["data"]["changed_at"].endswith("Z")
    assert await events_of(client, org, "employee.deactivated") == []


async def test_deactivate_then_activate_with_reasons_raise_one_event_each(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    employee = await create_employee(client, org, external_id="E-7", email="carmen@example.com")
    url = f"{EMPLOYEES}/{employee['id']}"
    left = await client.post(f"{url}/deactivate", json={"reason": "Left"}, headers=bearer(org))
    assert left.status_code == 200, left.text
    assert left.json()["status"] == "inactive"
    assert left.json()["deactivated_at"] is not None

    # Idempotent: a second deactivation is a 200 no-op without a second event.
    again = await client.post(f"{url}/deactivate", headers=bearer(org))
    assert again.status_code == 200
    assert again.json() == left.json()

    deactivated = await events_of(client, org, "employee.deactivated")
    assert [e["data"] for e in deactivated] == [
        {
            "employee": ref(employee),
            "status": "inactive",
            "changed_at": deactivated[0]["data"]["changed_at"],
            "reason": "Left",
        }
    ]

    back = await client.post(f"{url}/activate", headers=bearer(org))
    assert back.status_code == 200
    assert back.json()["status"] == "active"
    assert back.json()["deactivated_at"] is None
    activated = await events_of(client, org, "employee.activated")
    assert [e["data"]["reason"] for e in activated] == ["created", None]
    assert activated[-1]["data"]["employee"] == ref(employee)


async def test_patching_status_is_the_same_as_the_routes(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    employee = await create_employee(client, org)
    url = f"{EMPLOYEES}/{employee['id']}"
    patched = await client.patch(
        url, json={"status": "inactive", "name": "Ada K."}, headers=bearer(org)
    )
    assert patched.status_code == 200
    assert patched.json()["status"] == "inactive"
    [event] = await events_of(client, org, "employee.deactivated")
    # The event describes the employee as changed.
    assert event["data"]["employee"]["name"] == "Ada K."
    same = await client.patch(url, json={"status": "inactive"}, headers=bearer(org))
    assert same.status_code == 200
    assert len(await events_of(client, org, "employee.deactivated")) == 1


async def test_bad_status_change_bodies_write_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    employee = await create_employee(client, org)
    url = f"{EMPLOYEES}/{employee['id']}/deactivate"
    for body in ({"reason": "x" * 501}, {"why": "Left"}):
        response = await client.post(url, json=body, headers=bearer(org))
        assert response.status_code == 422, response.text
    fetched = await client.get(f"{EMPLOYEES}/{employee['id']}", headers=bearer(org))
    assert fetched.json()["status"] == "active"
    assert await events_of(client, org, "employee.deactivated") == []


async def test_a_deactivated_employee_can_neither_give_nor_receive(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    """Every engagement action looks employees up through the directory, which refuses
    deactivated ones: deactivating through the API is what it sees."""
    employee = await create_employee(client, org)
    await client.post(f"{EMPLOYEES}/{employee['id']}/deactivate", headers=bearer(org))
    env = org.environment_ids[Environment.PRODUCTION]

    def look_up(conn: Connection) -> None:
        load_employees(conn, env, [employee["id"]], field="receiver_ids")

    with pytest.raises(Conflict) as refused:
        await container.db.read_with(look_up)
    assert refused.value.code == "employee_inactive"
    assert refused.value.details == {"field": "receiver_ids", "employee_ids": [employee["id"]]}


async def test_events_stay_in_their_environment(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    await create_employee(client, org, Environment.STAGING)
    assert await events_of(client, org, "employee.activated") == []
    assert len(await events_of(client, org, "employee.activated", Environment.STAGING)) == 1
