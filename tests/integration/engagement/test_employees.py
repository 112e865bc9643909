"""Employees over the API: create, read, update, list, and the field rules."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.employee_helpers import (
    EMPLOYEES,
    all_employees,
    create_employee,
    events_of,
)


async def test_create_then_get_with_every_field(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    boss = await create_employee(client, org, name="Grace Hopper", external_id="E-1")
    created = await create_employee(
        client,
        org,
        external_id=" E-2 ",
        email=" Ada@Example.COM ",
        name="Ada Lovelace",
        department="Engineering",
        location="London",
        manager_id=boss["id"],
        hire_date="2024-03-01",
        birth_date="1990-12-10",
        time_zone="Europe/London",
    )
    assert created["id"].startswith("usr_")
    assert created == {
        **created,
        "external_id": "E-2",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "department": "Engineering",
        "location": "London",
        "manager_id": boss["id"],
        "hire_date": "2024-03-01",
        "birth_date": "1990-12-10",
        "time_zone": "Europe/London",
        "status": "active",
        "deactivated_at": None,
    }
    fetched = await client.get(f"{EMPLOYEES}/{created['id']}", headers=bearer(org))
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_defaults_are_utc_and_active(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    created = await create_employee(client, org, name="Only A Name")
    assert created["time_zone"] == "UTC"
    assert created["status"] == "active"
    assert created["email"] is None
    assert created["external_id"] is None


async def test_patch_changes_only_what_is_sent_and_null_clears(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    created = await create_employee(
        client, org, email="a@example.com", department="Sales", location="Paris"
    )
    patched = await client.patch(
        f"{EMPLOYEES}/{created['id']}",
        json={"department": "Marketing", "location": None},
        headers=bearer(org),
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["department"] == "Marketing"
    assert body["location"] is None
    assert body["email"] == "a@example.com"
    assert body["updated_at"] >= created["updated_at"]
    # Nothing to change: answered as is.
    again = await client.patch(
        f"{EMPLOYEES}/{created['id']}", json={"department": "Marketing"}, headers=bearer(org)
    )
    assert again.json() == body


async def test_unknown_employee_is_404_on_every_route(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    missing = f"{EMPLOYEES}/usr_nope"
    for response in (
        await client.get(missing, headers=bearer(org)),
        await client.patch(missing, json={"name": "X"}, headers=bearer(org)),
        await client.post(f"{missing}/deactivate", headers=bearer(org)),
        await client.post(f"{missing}/activate", headers=bearer(org)),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "employee_not_found"
        assert "usr_nope" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"hire_date": "2023-02-30"}, "invalid_date", "hire_date"),
        ({"hire_date": "2023-2-3"}, "invalid_date", "hire_date"),
        ({"hire_date": "2023-02-03T00:00:00"}, "invalid_date", "hire_date"),
        ({"birth_date": "2999-01-01"}, "invalid_date", "birth_date"),
        ({"email": "not-an-email"}, "invalid_email", "email"),
        ({"email": "a@b"}, "invalid_email", "email"),
        ({"time_zone": "Mars/Olympus_Mons"}, "invalid_time_zone", "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "invalid_time_zone", "time_zone"),
        ({"name": "   "}, "required", "name"),
        ({"name": "x" * 201}, "too_long", "name"),
        ({"manager_id": "usr_missing"}, "unknown_employee", "manager_id"),
    ],
)
async def test_bad_fields_are_422_naming_the_field_and_write_nothing(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    fields: dict[str, Any],
    code: str,
    field: str,
) -> None:
    response = await client.post(EMPLOYEES, json={"name": "Ada", **fields}, headers=bearer(org))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["details"]["field"] == field
    assert field in error["message"]
    assert await all_employees(client, org) == []
    assert await events_of(client, org, "employee.activated") == []


@pytest.mark.parametrize(
    "body",
    [
        {"status": "paused", "name": "Ada"},
        {"name": 42},
        {"name": "Ada", "nickname": "A"},
        {"email": "a@example.com"},
    ],
)
async def test_malformed_bodies_are_422(
    client: httpx.AsyncClient, org: CreatedOrganization, body: dict[str, Any]
) -> None:
    response = await client.post(EMPLOYEES, json=body, headers=bearer(org))
    assert response.status_code == 422, response.text
    assert await all_employees(client, org) == []


async def test_bad_patch_writes_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    created = await create_employee(client, org, department="Sales")
    for body in (
        {"department": "Ops", "hire_date": "2023-02-30"},
        {"department": "Ops", "name": None},
        {"department": "Ops", "time_zone": None},
    ):
        response = await client.patch(
            f"{EMPLOYEES}/{created['id']}", json=body, headers=bearer(org)
        )
        assert response.status_code == 422, response.text
    fetched = await client.get(f"{EMPLOYEES}/{created['id']}", headers=bearer(org))
    assert fetched.json() == created


async def test_duplicate_external_id_and_email_are_409_naming_the_holder(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    first = await create_employee(client, org, external_id="E-1", email="ada@example.com")
    for fields, field in (
        ({"external_id": "E-1"}, "external_id"),
        ({"email": "ADA@example.com"}, "email"),
    ):
        response = await client.post(
            EMPLOYEES, json={"name": "Other", **fields}, headers=bearer(org)
        )
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == f"duplicate_{field}"
        assert error["details"] == {
            "field": field,
            "value": "E-1" if field == "external_id" else "ada@example.com",
            "existing_employee_id": first["id"],
        }
        assert first["id"] in error["message"]
    # The same rule on update.
    other = await create_employee(client, org, name="Other", external_id="E-2")
    taken = await client.patch(
        f"{EMPLOYEES}/{other['id']}", json={"external_id": "E-1"}, headers=bearer(org)
    )
    assert taken.status_code == 409
    assert [e["id"] for e in await all_employees(client, org)] == [first["id"], other["id"]]


async def test_concurrent_creates_with_one_email_give_one_employee(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                EMPLOYEES,
                json={"name": f"Twin {i}", "email": "twin@example.com"},
                headers=bearer(org),
            )
            for i in range(6)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            assert response.json()["error"]["details"]["existing_employee_id"] == winner["id"]
    assert len(await all_employees(client, org)) == 1
    assert len(await events_of(client, org, "employee.activated")) == 1


async def test_manager_cannot_close_a_reporting_loop(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    top = await create_employee(client, org, name="Top")
    middle = await create_employee(client, org, name="Middle", manager_id=top["id"])
    bottom = await create_employee(client, org, name="Bottom", manager_id=middle["id"])
    own = await client.patch(
        f"{EMPLOYEES}/{top['id']}", json={"manager_id": top["id"]}, headers=bearer(org)
    )
    assert own.status_code == 422
    assert own.json()["error"]["code"] == "manager_cycle"
    loop = await client.patch(
        f"{EMPLOYEES}/{top['id']}", json={"manager_id": bottom["id"]}, headers=bearer(org)
    )
    assert loop.status_code == 422, loop.text
    error = loop.json()["error"]
    assert error["code"] == "manager_cycle"
    assert error["details"]["chain"] == [top["id"], bottom["id"], middle["id"], top["id"]]
    fetched = await client.get(f"{EMPLOYEES}/{top['id']}", headers=bearer(org))
    assert fetched.json()["manager_id"] is None
    # Moving someone elsewhere in the tree is fine.
    moved = await client.patch(
        f"{EMPLOYEES}/{bottom['id']}", json={"manager_id": top["id"]}, headers=bearer(org)
    )
    assert moved.status_code == 200
    assert moved.json()["manager_id"] == top["id"]


async def test_filters(client: httpx.AsyncClient, org: CreatedOrganization) -> None:
    boss = await create_employee(client, org, name="Boss", external_id="B", email="b@x.io")
    ada = await create_employee(
        client,
        org,
        name="Ada Lovelace",
        email="ada@x.io",
        department="Eng",
        location="London",
        manager_id=boss["id"],
    )
    bob = await create_employee(
        client, org, name="Bob", email="robert@x.io", department="Eng", location="Paris"
    )
    gone = await create_employee(client, org, name="Gone", status="inactive", department="Eng")

    async def ids(**params: Any) -> list[str]:
        return [e["id"] for e in await all_employees(client, org, **params)]

    assert await ids(department="Eng") == [ada["id"], bob["id"], gone["id"]]
    assert await ids(department="Eng", status="active") == [ada["id"], bob["id"]]
    assert await ids(status="inactive") == [gone["id"]]
    assert await ids(location="Paris") == [bob["id"]]
    assert await ids(manager_id=boss["id"]) == [ada["id"]]
    assert await ids(email="ADA@x.io") == [ada["id"]]
    assert await ids(external_id="B") == [boss["id"]]
    assert await ids(q="lovel") == [ada["id"]]
    assert await ids(q="ROBERT") == [bob["id"]]
    assert await ids(q="%") == []
    assert await ids(department="Nobody") == []
    bad = await client.get(EMPLOYEES, params={"status": "gone"}, headers=bearer(org))
    assert bad.status_code == 422


async def test_cursor_pagination_walks_every_employee_once(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    made = [(await create_employee(client, org, name=f"E{i}"))["id"] for i in range(7)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(EMPLOYEES, params=params, headers=bearer(org))).json()
        pages += 1
        seen.extend(e["id"] for e in page["data"])
        assert page["has_more"] == (page["next_cursor"] is not None)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    assert pages == 3
    bad = await client.get(EMPLOYEES, params={"cursor": "garbage!"}, headers=bearer(org))
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_cursor"


async def test_staging_and_production_share_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    prod = await create_employee(client, org, external_id="E-1", email="a@example.com")
    # The same keys are free in staging.
    staging = await create_employee(
        client, org, Environment.STAGING, external_id="E-1", email="a@example.com"
    )
    assert [e["id"] for e in await all_employees(client, org)] == [prod["id"]]
    assert [e["id"] for e in await all_employees(client, org, Environment.STAGING)] == [
        staging["id"]
    ]
    cross = await client.get(f"{EMPLOYEES}/{prod['id']}", headers=bearer(org, Environment.STAGING))
    assert cross.status_code == 404
    # A manager from the other environment does not exist here.
    foreign_manager = await client.post(
        EMPLOYEES,
        json={"name": "X", "manager_id": prod["id"]},
        headers=bearer(org, Environment.STAGING),
    )
    assert foreign_manager.status_code == 422
    assert foreign_manager.json()["error"]["code"] == "unknown_employee"
