"""The Connect events feed: commit order, once each, whatever the writers do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.connect.rate_limit import TokenBuckets
from plaudit.domain.api_keys import Environment
from plaudit.events.models import EventDraft
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.connect.seed import connect_headers, seed

FEED = "/connect/v1/events"
TYPE = "shoutout.posted"


@pytest.fixture
def no_rate_limit(container: Container) -> Iterator[None]:
    saved = container.connect_limiter
    container.connect_limiter = TokenBuckets(1e6, 1_000_000)
    try:
        yield
    finally:
        container.connect_limiter = saved


async def publish(client: httpx.AsyncClient, org: CreatedOrganization, container: Container) -> str:
    example = container.catalog.get(TYPE).example
    response = await client.post(
        "/api/v1/events", headers=bearer(org), json={"type": TYPE, "data": example}
    )
    assert response.status_code == 202, response.text
    event_id: str = response.json()["id"]
    return event_id


async def poll(
    client: httpx.AsyncClient, headers: dict[str, str], after: str | None, **params: Any
) -> dict[str, Any]:
    query = {**params, **({"after": after} if after else {})}
    response = await client.get(FEED, headers=headers, params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def settled(
    client: httpx.AsyncClient, headers: dict[str, str], after: str | None, count: int, **params: Any
) -> dict[str, Any]:
    """The feed from `after` once it shows `count` events, or as it is after 10 s. On
    PostgreSQL the feed holds an event back while any write transaction that began before
    it is still open on the server, in any database: other work on a shared server can
    delay it for a moment. A skipped event never arrives, so the caller's check fails."""
    page = await poll(client, headers, after, **params)
    for _ in range(100):
        if len(page["data"]) >= count:
            break
        await asyncio.sleep(0.1)
        page = await poll(client, headers, after, **params)
    return page


async def drain(
    client: httpx.AsyncClient, headers: dict[str, str], after: str | None, limit: int = 50
) -> tuple[list[str], str]:
    seen: list[str] = []
    while True:
        page = await poll(client, headers, after, limit=limit)
        seen += [e["id"] for e in page["data"]]
        after = page["next_cursor"]
        if not page["has_more"]:
            return seen, after


async def test_feed_pages_filters_and_resumes(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    await seed(client, org)
    headers = await connect_headers(container, org)
    admin_list = await client.get(
        "/api/v1/events", headers=bearer(org), params={"order": "asc", "limit": 200}
    )
    expected = [(e["id"], e["type"]) for e in admin_list.json()["data"]]
    assert {t for _, t in expected} >= {"recognition.awarded", "reward.redeemed", "points.earned"}

    everything = await settled(client, headers, None, len(expected), limit=200)
    assert [(e["id"], e["type"]) for e in everything["data"]] == expected
    first = everything["data"][0]
    assert set(first) == {"id", "type", "schema_version", "timestamp", "data"}
    assert everything["has_more"] is False

    paged, cursor = await drain(client, headers, None, limit=2)
    assert paged == [i for i, _ in expected]
    # Nothing new: the same cursor comes back with an empty page.
    empty = await poll(client, headers, cursor)
    assert empty["data"] == []
    assert empty["next_cursor"] == cursor
    assert empty["has_more"] is False

    later = await publish(client, org, container)
    assert [e["id"] for e in (await settled(client, headers, cursor, 1))["data"]] == [later]

    points = await poll(client, headers, None, type=["points.earned", "reward.redeemed"])
    assert [e["id"] for e in points["data"]] == [
        i for i, t in expected if t in ("points.earned", "reward.redeemed")
    ]
    # Staging's feed is its own.
    staging = await connect_headers(container, org, Environment.STAGING)
    assert (await poll(client, staging, None))["data"] == []


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"type": "no.such_type"}, 422, "unknown_event_type"),
        ({"type": "endpoint.disabled"}, 422, "unknown_event_type"),  # operational, not catalog
        ({"after": "bm90LWEtY3Vyc29y"}, 400, "invalid_cursor"),
        ({"after": "eyJ0IjoiMSIsImUiOiJ4In0"}, 400, "invalid_cursor"),  # {"t":"1","e":"x"}
        ({"limit": 0}, 422, "validation_error"),
        ({"limit": 201}, 422, "validation_error"),
    ],
)
async def test_feed_refuses_bad_input(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    params: dict[str, Any],
    status: int,
    code: str,
) -> None:
    headers = await connect_headers(container, org)
    response = await client.get(FEED, headers=headers, params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_a_transaction_committing_late_is_not_skipped(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    is_postgres: bool,
) -> None:
    headers = await connect_headers(container, org)
    env = org.environment_ids[Environment.PRODUCTION]
    example = container.catalog.get(TYPE).example
    _, cursor = await drain(client, headers, None)

    async with container.db.transaction() as conn:
        early = await container.event_log.append(conn, env, EventDraft(TYPE, example))
        # A second writer appends a later event and commits first (PostgreSQL), or waits for
        # the lock (SQLite, one writer).
        later_task = asyncio.create_task(publish(client, org, container))
        if is_postgres:
            later = await later_task
            assert later > early.id
        else:
            await asyncio.sleep(0.2)
            assert not later_task.done()
        meanwhile = await poll(client, headers, cursor)
        # The later event is committed but held back: serving it now would move the cursor
        # past the early one, which would then never be seen.
        assert meanwhile["data"] == []
        assert meanwhile["next_cursor"] == cursor
    later = await later_task

    after_commit, _ = await drain(client, headers, cursor)
    assert after_commit == [early.id, later]


async def test_concurrent_publishers_and_a_poller(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    no_rate_limit: None,
) -> None:
    headers = await connect_headers(container, org)
    publishers, each = 8, 15
    done = asyncio.Event()

    env = org.environment_ids[Environment.PRODUCTION]
    example = container.catalog.get(TYPE).example

    async def append_in_transaction(hold_s: float) -> str:
        # The other write path (SQLite: a second writer connection beside the writer thread),
        # held open a moment so that later transactions commit first (PostgreSQL).
        async with container.db.transaction() as conn:
            event = await container.event_log.append(conn, env, EventDraft(TYPE, example))
            await asyncio.sleep(hold_s)
            return event.id

    async def publisher(n: int) -> list[str]:
        if n % 2:
            return [await append_in_transaction(0.01 * (n % 4)) for _ in range(each)]
        return [await publish(client, org, container) for _ in range(each)]

    async def poller() -> list[str]:
        seen: list[str] = []
        cursor: str | None = None
        while not done.is_set():
            page = await poll(client, headers, cursor, limit=7)
            seen += [e["id"] for e in page["data"]]
            cursor = page["next_cursor"]
            await asyncio.sleep(0)
        rest, _ = await drain(client, headers, cursor, limit=7)
        return seen + rest

    polling = asyncio.create_task(poller())
    published = await asyncio.gather(*(publisher(n) for n in range(publishers)))
    done.set()
    seen = await polling

    every = [event_id for batch in published for event_id in batch]
    assert len(seen) == len(set(seen)), "an event was served twice"
    assert set(seen) == set(every), "an event was skipped"
    assert len(every) == publishers * each
