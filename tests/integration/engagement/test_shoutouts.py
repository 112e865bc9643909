"""Shoutouts over the API: posting raises `shoutout.posted`, gives no points, refuses bad input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.events.models import rfc3339
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.recognition_support import (
    employees,
    env_of,
    events_of,
    written,
)

SHOUTOUTS = "/api/v1/shoutouts"


async def post(
    client: httpx.AsyncClient, org: CreatedOrganization, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(SHOUTOUTS, json=body, headers=bearer(org))


async def test_post_raises_shoutout_posted_and_gives_no_points(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    carmen, dev, bob = await employees(container, org, "Carmen", "Dev", "Bob")
    response = await post(
        client,
        org,
        {
            "author_id": carmen.id,
            "message": " Huge welcome to Dev and Bob! ",
            "mention_ids": [dev.id, bob.id],
        },
    )
    assert response.status_code == 201, response.text
    shoutout = response.json()
    assert shoutout["id"].startswith("sht_")
    assert shoutout == {
        "id": shoutout["id"],
        "author_id": carmen.id,
        "message": "Huge welcome to Dev and Bob!",
        "mention_ids": sorted([dev.id, bob.id]),
        "created_at": shoutout["created_at"],
    }
    fetched = await client.get(f"{SHOUTOUTS}/{shoutout['id']}", headers=bearer(org))
    assert fetched.json() == shoutout

    assert await events_of(client, org, "shoutout.posted") == [
        {
            "shoutout_id": shoutout["id"],
            "author": carmen.ref(),
            "message": "Huge welcome to Dev and Bob!",
            "mentions": [dev.ref(), bob.ref()],  # in the order the author wrote them
            "created_at": rfc3339(datetime.fromisoformat(shoutout["created_at"])),
        }
    ]
    counts = await written(container, org)
    assert (counts.shoutouts, counts.mentions, counts.events) == (1, 2, 1)
    assert (counts.point_entries, counts.budget_usage, counts.recognitions) == (0, 0, 0)

    # Without mentions is fine too.
    alone = await post(client, org, {"author_id": dev.id, "message": "Shipped!"})
    assert alone.status_code == 201, alone.text
    assert alone.json()["mention_ids"] == []
    assert (await events_of(client, org, "shoutout.posted"))[-1]["mentions"] == []


async def test_list_filters_and_pages_newest_first(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    alice, bob, carmen = await employees(container, org, "Alice", "Bob", "Carmen")
    made = []
    for author, mentions in ((alice, [bob]), (bob, []), (carmen, [alice, bob])):
        body = {"author_id": author.id, "message": "Hi", "mention_ids": [m.id for m in mentions]}
        made.append((await post(client, org, body)).json()["id"])

    async def ids(**params: Any) -> list[str]:
        response = await client.get(SHOUTOUTS, params=params, headers=bearer(org))
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["data"]]

    assert await ids() == made[::-1]
    assert await ids(author_id=bob.id) == [made[1]]
    assert await ids(mention_id=bob.id) == [made[2], made[0]]
    assert await ids(mention_id=alice.id, author_id=carmen.id) == [made[2]]
    second = (await client.get(f"{SHOUTOUTS}/{made[1]}", headers=bearer(org))).json()
    assert await ids(since=second["created_at"]) == [made[2], made[1]]
    assert await ids(until=second["created_at"]) == [made[0]]
    page = (await client.get(SHOUTOUTS, params={"limit": 2}, headers=bearer(org))).json()
    assert [s["id"] for s in page["data"]] == [made[2], made[1]]
    assert await ids(limit=2, cursor=page["next_cursor"]) == [made[0]]

    staging = await client.get(f"{SHOUTOUTS}/{made[0]}", headers=bearer(org, Environment.STAGING))
    assert staging.status_code == 404
    assert (await client.get(SHOUTOUTS, headers=bearer(org, Environment.STAGING))).json()[
        "data"
    ] == []


@pytest.mark.parametrize(
    ("change", "status", "code", "named"),
    [
        ({"author_id": "usr_nobody"}, 422, "unknown_employee", "usr_nobody"),
        ({"mention_ids": ["usr_nobody"]}, 422, "unknown_employee", "usr_nobody"),
        ({"author_id": "INACTIVE"}, 409, "employee_inactive", "INACTIVE"),
        ({"mention_ids": ["INACTIVE"]}, 409, "employee_inactive", "INACTIVE"),
        ({"mention_ids": ["AUTHOR"]}, 422, "self_mention", "AUTHOR"),
        ({"mention_ids": ["MENTIONED", "MENTIONED"]}, 422, "duplicate_employee", "MENTIONED"),
        ({"message": ""}, 422, "empty_text", "message"),
        ({"message": " \n "}, 422, "empty_text", "message"),
        ({"message": "x" * 5001}, 422, "text_too_long", "message"),
        ({"points": 5}, 422, "validation_error", "points"),
        ({"author_id": None}, 422, "validation_error", "author_id"),
    ],
)
async def test_refused_shoutout_names_the_problem_and_writes_nothing(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    change: dict[str, Any],
    status: int,
    code: str,
    named: str,
) -> None:
    author, mentioned = await employees(container, org, "Alice", "Bob")
    inactive = await make_employee(container, env_of(org), name="Gone", status="inactive")
    names = {"AUTHOR": author.id, "MENTIONED": mentioned.id, "INACTIVE": inactive.id}

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return names.get(value, value) if isinstance(value, str) else value

    body = {"author_id": author.id, "message": "Great work", "mention_ids": [mentioned.id]}
    body |= {key: resolve(value) for key, value in change.items()}
    before = await written(container, org)

    response = await post(client, org, body)

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert names.get(named, named) in error["message"]
    assert await written(container, org) == before
    assert await events_of(client, org, "shoutout.posted") == []


async def test_unknown_shoutout_is_404(client: httpx.AsyncClient, org: CreatedOrganization) -> None:
    response = await client.get(f"{SHOUTOUTS}/sht_nope", headers=bearer(org))
    assert response.status_code == 404
    assert "sht_nope" in response.json()["error"]["message"]
