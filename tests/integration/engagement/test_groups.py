"""Groups over the API, and `group_member_ids` as other parts call it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.errors import ValidationFailed
from plaudit.engagement.group_audience import group_member_ids
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.employee_helpers import (
    EMPLOYEES,
    GROUPS,
    all_employees,
    create_employee,
)


async def create_group(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    env: Environment = Environment.PRODUCTION,
    **fields: Any,
) -> dict[str, Any]:
    response = await client.post(
        GROUPS, json={"name": "Platform", "kind": "team", **fields}, headers=bearer(org, env)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def member_ids(
    client: httpx.AsyncClient, org: CreatedOrganization, group_id: str, limit: int = 200
) -> list[str]:
    found: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = await client.get(f"{GROUPS}/{group_id}/members", params=params, headers=bearer(org))
        assert page.status_code == 200, page.text
        found.extend(e["id"] for e in page.json()["data"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found


async def test_group_crud(client: httpx.AsyncClient, org: CreatedOrganization) -> None:
    group = await create_group(client, org, description="Builds the platform")
    assert group["id"].startswith("grp_")
    assert group == {
        **group,
        "name": "Platform",
        "kind": "team",
        "description": "Builds the platform",
        "member_count": 0,
    }
    url = f"{GROUPS}/{group['id']}"
    assert (await client.get(url, headers=bearer(org))).json() == group
    patched = await client.patch(
        url, json={"name": "Platform Eng", "kind": "department"}, headers=bearer(org)
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Platform Eng"
    assert patched.json()["kind"] == "department"
    assert patched.json()["description"] == "Builds the platform"
    member = await create_employee(client, org)
    await client.put(f"{url}/members", json={"employee_ids": [member["id"]]}, headers=bearer(org))
    deleted = await client.delete(url, headers=bearer(org))
    assert deleted.status_code == 204
    # Its members stay employees.
    assert [e["id"] for e in await all_employees(client, org)] == [member["id"]]
    assert (await client.get(url, headers=bearer(org))).status_code == 404
    assert (await client.delete(url, headers=bearer(org))).status_code == 404


async def test_list_groups_with_kind_filter_and_pagination(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    made = [
        (await create_group(client, org, name=f"G{i}", kind="team" if i % 2 else "location"))["id"]
        for i in range(5)
    ]
    first = (await client.get(GROUPS, params={"limit": 2}, headers=bearer(org))).json()
    assert [g["id"] for g in first["data"]] == made[:2]
    assert first["has_more"] is True
    rest = (
        await client.get(
            GROUPS, params={"limit": 10, "cursor": first["next_cursor"]}, headers=bearer(org)
        )
    ).json()
    assert [g["id"] for g in rest["data"]] == made[2:]
    assert rest["next_cursor"] is None
    teams = (await client.get(GROUPS, params={"kind": "team"}, headers=bearer(org))).json()
    assert [g["id"] for g in teams["data"]] == [made[1], made[3]]


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "X", "kind": "tribe"},
        {"name": "X", "description": "d" * 1001},
        {"name": "X", "colour": "red"},
    ],
)
async def test_bad_groups_are_422_and_write_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization, body: dict[str, Any]
) -> None:
    response = await client.post(GROUPS, json=body, headers=bearer(org))
    assert response.status_code == 422, response.text
    assert (await client.get(GROUPS, headers=bearer(org))).json()["data"] == []


async def test_group_names_are_unique_per_environment(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    first = await create_group(client, org, name="Sales")
    clash = await client.post(GROUPS, json={"name": " Sales "}, headers=bearer(org))
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "duplicate_group_name"
    assert clash.json()["error"]["details"]["existing_group_id"] == first["id"]
    other = await create_group(client, org, name="Ops")
    renamed = await client.patch(
        f"{GROUPS}/{other['id']}", json={"name": "Sales"}, headers=bearer(org)
    )
    assert renamed.status_code == 409
    null_name = await client.patch(
        f"{GROUPS}/{other['id']}", json={"name": None}, headers=bearer(org)
    )
    assert null_name.status_code == 422
    assert (await client.get(f"{GROUPS}/{other['id']}", headers=bearer(org))).json() == other
    # Free in staging.
    await create_group(client, org, Environment.STAGING, name="Sales")


async def test_members_add_idempotently_list_and_remove(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    group = await create_group(client, org)
    people = [(await create_employee(client, org, name=f"P{i}"))["id"] for i in range(5)]
    members = f"{GROUPS}/{group['id']}/members"
    added = await client.put(members, json={"employee_ids": people[:3]}, headers=bearer(org))
    assert added.status_code == 200, added.text
    assert added.json() == {"added": people[:3], "already_members": [], "member_count": 3}
    again = await client.put(
        members, json={"employee_ids": [people[2], people[3], people[3]]}, headers=bearer(org)
    )
    assert again.json() == {
        "added": [people[3]],
        "already_members": [people[2]],
        "member_count": 4,
    }
    assert await member_ids(client, org, group["id"], limit=3) == people[:4]
    fetched = await client.get(f"{GROUPS}/{group['id']}", headers=bearer(org))
    assert fetched.json()["member_count"] == 4
    # The employee list filters on groups too.
    in_group = await all_employees(client, org, group_id=group["id"])
    assert [e["id"] for e in in_group] == people[:4]

    removed = await client.delete(f"{members}/{people[0]}", headers=bearer(org))
    assert removed.status_code == 204
    gone = await client.delete(f"{members}/{people[0]}", headers=bearer(org))
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_a_member"
    assert await member_ids(client, org, group["id"]) == people[1:4]


async def test_unknown_or_deactivated_members_refuse_the_whole_request(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    group = await create_group(client, org)
    ok = await create_employee(client, org, name="Ok")
    gone = await create_employee(client, org, name="Gone", status="inactive")
    members = f"{GROUPS}/{group['id']}/members"
    unknown = await client.put(
        members, json={"employee_ids": [ok["id"], "usr_nobody"]}, headers=bearer(org)
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_employee"
    assert unknown.json()["error"]["details"]["employee_ids"] == ["usr_nobody"]
    inactive = await client.put(
        members, json={"employee_ids": [ok["id"], gone["id"]]}, headers=bearer(org)
    )
    assert inactive.status_code == 409
    assert inactive.json()["error"]["code"] == "employee_inactive"
    assert inactive.json()["error"]["details"]["employee_ids"] == [gone["id"]]
    empty = await client.put(members, json={"employee_ids": []}, headers=bearer(org))
    assert empty.status_code == 422
    assert await member_ids(client, org, group["id"]) == []
    missing_group = await client.put(
        f"{GROUPS}/grp_nope/members", json={"employee_ids": [ok["id"]]}, headers=bearer(org)
    )
    assert missing_group.status_code == 404
    assert missing_group.json()["error"]["code"] == "group_not_found"


async def test_groups_and_members_stay_in_their_environment(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    group = await create_group(client, org)
    staging_employee = await create_employee(client, org, Environment.STAGING)
    foreign = await client.put(
        f"{GROUPS}/{group['id']}/members",
        json={"employee_ids": [staging_employee["id"]]},
        headers=bearer(org),
    )
    assert foreign.status_code == 422
    seen_from_staging = await client.get(
        f"{GROUPS}/{group['id']}", headers=bearer(org, Environment.STAGING)
    )
    assert seen_from_staging.status_code == 404


async def test_group_member_ids_resolves_active_members_of_any_group(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    team = await create_group(client, org, name="Team")
    site = await create_group(client, org, name="Site", kind="location")
    a, b, c = [(await create_employee(client, org, name=n))["id"] for n in "ABC"]
    for group, people in ((team, [a, b]), (site, [b, c])):
        response = await client.put(
            f"{GROUPS}/{group['id']}/members", json={"employee_ids": people}, headers=bearer(org)
        )
        assert response.status_code == 200
    await client.post(f"{EMPLOYEES}/{c}/deactivate", headers=bearer(org))

    def resolve(group_ids: list[str]) -> Any:
        return lambda conn: group_member_ids(conn, env, group_ids)

    assert await container.db.read_with(resolve([team["id"], site["id"]])) == {a, b}
    assert await container.db.read_with(resolve([site["id"]])) == {b}
    assert await container.db.read_with(resolve([])) == set()
    # Deactivated members stay members: they count again once reactivated.
    await client.post(f"{EMPLOYEES}/{c}/activate", headers=bearer(org))
    assert await container.db.read_with(resolve([site["id"]])) == {b, c}

    def unknown(conn: Connection) -> set[str]:
        return group_member_ids(conn, env, [team["id"], "grp_nope", "grp_gone"])

    with pytest.raises(ValidationFailed) as refused:
        await container.db.read_with(unknown)
    assert refused.value.code == "unknown_group"
    assert refused.value.details == {"field": "group_ids", "group_ids": ["grp_nope", "grp_gone"]}
    # Another environment's group is unknown here.
    staging = org.environment_ids[Environment.STAGING]
    with pytest.raises(ValidationFailed):
        await container.db.read_with(lambda conn: group_member_ids(conn, staging, [team["id"]]))


async def test_concurrent_creates_with_one_name_give_one_group(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    responses = await asyncio.gather(
        *(client.post(GROUPS, json={"name": "Racers"}, headers=bearer(org)) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    listed = (await client.get(GROUPS, headers=bearer(org))).json()["data"]
    assert [g["name"] for g in listed] == ["Racers"]
