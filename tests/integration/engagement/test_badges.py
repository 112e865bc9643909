"""The badge catalog over the API: create, list, read, change and retire."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer

BADGES = "/api/v1/badges"


async def create(
    client: httpx.AsyncClient, org: CreatedOrganization, **body: Any
) -> httpx.Response:
    return await client.post(BADGES, json={"name": "Customer Hero", **body}, headers=bearer(org))


async def listed(client: httpx.AsyncClient, org: CreatedOrganization, **params: Any) -> list[Any]:
    response = await client.get(BADGES, params=params, headers=bearer(org))
    assert response.status_code == 200, response.text
    data: list[Any] = response.json()["data"]
    return data


async def test_create_read_list_and_update(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    created = await create(
        client,
        org,
        name="  Customer Hero ",
        description="Went above and beyond for a customer.",
        icon_url="https://cdn.example.com/hero.png",
    )
    assert created.status_code == 201, created.text
    badge = created.json()
    assert badge["id"].startswith("bdg_")
    assert badge["name"] == "Customer Hero"
    assert badge["description"] == "Went above and beyond for a customer."
    assert badge["icon_url"] == "https://cdn.example.com/hero.png"
    assert badge["active"] is True

    fetched = await client.get(f"{BADGES}/{badge['id']}", headers=bearer(org))
    assert fetched.json() == badge

    patched = await client.patch(
        f"{BADGES}/{badge['id']}",
        json={"name": "Customer Champion", "icon_url": None},
        headers=bearer(org),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Customer Champion"
    assert patched.json()["icon_url"] is None
    assert patched.json()["description"] == badge["description"]  # not sent: kept

    # Staging shares nothing with production.
    staging = await client.get(f"{BADGES}/{badge['id']}", headers=bearer(org, Environment.STAGING))
    assert staging.status_code == 404
    assert staging.json()["error"]["code"] == "not_found"


async def test_retire_and_filter_by_active(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    kept = (await create(client, org, name="Mentor")).json()
    retired = (await create(client, org, name="Old Badge")).json()
    patched = await client.patch(
        f"{BADGES}/{retired['id']}", json={"active": False}, headers=bearer(org)
    )
    assert patched.status_code == 200
    assert patched.json()["active"] is False

    assert [b["id"] for b in await listed(client, org)] == [kept["id"], retired["id"]]
    assert [b["id"] for b in await listed(client, org, active="true")] == [kept["id"]]
    assert [b["id"] for b in await listed(client, org, active="false")] == [retired["id"]]


async def test_list_pages_with_a_cursor(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    ids = [(await create(client, org, name=f"Badge {n}")).json()["id"] for n in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(BADGES, params=params, headers=bearer(org))).json()
        seen += [b["id"] for b in page["data"]]
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if cursor is None:
            break
    assert seen == ids


async def test_a_name_is_unique_per_environment(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    first = await create(client, org)
    assert first.status_code == 201
    again = await create(client, org, description="another")
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "badge_name_taken"
    assert "Customer Hero" in again.json()["error"]["message"]
    assert len(await listed(client, org)) == 1

    # Renaming another badge onto the name is refused the same way, and changes nothing.
    other = (await create(client, org, name="Mentor")).json()
    renamed = await client.patch(
        f"{BADGES}/{other['id']}", json={"name": "Customer Hero"}, headers=bearer(org)
    )
    assert renamed.status_code == 409
    assert renamed.json()["error"]["code"] == "badge_name_taken"
    fetched = await client.get(f"{BADGES}/{other['id']}", headers=bearer(org))
    assert fetched.json() == other

    # The same name in the other environment is fine.
    staging = await client.post(
        BADGES, json={"name": "Customer Hero"}, headers=bearer(org, Environment.STAGING)
    )
    assert staging.status_code == 201


@pytest.mark.parametrize(
    ("body", "code", "named"),
    [
        ({"name": "   "}, "empty_text", "name"),
        ({"name": "x" * 201}, "text_too_long", "name"),
        ({"name": "Nul\u0000"}, "invalid_text", "name"),
        ({"name": "Hero", "icon_url": "javascript:alert(1)"}, "invalid_icon_url", "icon_url"),
        ({"name": "Hero", "icon_url": "https://"}, "invalid_icon_url", "icon_url"),
        ({"name": "Hero", "description": "x" * 1001}, "text_too_long", "description"),
        ({"name": "Hero", "colour": "gold"}, "validation_error", "colour"),
        ({}, "validation_error", "name"),
    ],
)
async def test_bad_badges_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    body: dict[str, Any],
    code: str,
    named: str,
) -> None:
    response = await client.post(BADGES, json=body, headers=bearer(org))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert named in response.json()["error"]["message"]
    assert await listed(client, org) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": None}, "validation_error"),
        ({"active": None}, "validation_error"),
        ({"name": ""}, "empty_text"),
        ({"icon_url": "ftp://example.com/a.png"}, "invalid_icon_url"),
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization, body: dict[str, Any], code: str
) -> None:
    badge = (await create(client, org)).json()
    response = await client.patch(f"{BADGES}/{badge['id']}", json=body, headers=bearer(org))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert (await client.get(f"{BADGES}/{badge['id']}", headers=bearer(org))).json() == badge


async def test_unknown_badge_is_404(client: httpx.AsyncClient, org: CreatedOrganization) -> None:
    for response in (
        await client.get(f"{BADGES}/bdg_nope", headers=bearer(org)),
        await client.patch(f"{BADGES}/bdg_nope", json={"active": False}, headers=bearer(org)),
    ):
        assert response.status_code == 404
        assert "bdg_nope" in response.json()["error"]["message"]
