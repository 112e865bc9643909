"""Transactions pushed through a source: create, update, late correction, delete, rejects."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.store.ingest_tables import transactions
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.ingest.helpers import (
    assert_nothing_lost,
    create_source,
    deal,
    push,
    receipt,
    records,
)


async def _transactions(container: Container, env: str) -> list[tuple[str, str, str, int]]:
    rows = await container.db.read_with(
        lambda c: c.execute(
            select(transactions)
            .where(transactions.c.environment_id == env)
            .order_by(transactions.c.external_id)
        ).all()
    )
    return [(r.external_id, r.value, r.status, r.revision) for r in rows]


async def test_transactions_create_update_correct_and_delete(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env, name="Ada", email="ada@example.com")
    await make_employee(container, env, name="Bo", email="bo@example.com")
    source = await create_source(client, org)
    assert source["ingest_url"].startswith("http://plaudit.test/ingest/")
    assert source["secret"] is None

    first = await push(
        client,
        source,
        [deal("D-1", "ada@example.com", 100), deal("D-2", "bo@example.com", "250.50")],
    )
    assert first.status_code == 202, first.text
    answer = first.json()
    assert answer["accepted"] == 2
    assert answer["rejected"] == 0
    assert answer["receipt_id"].startswith("rcp_")
    assert await _transactions(container, env) == [
        ("D-1", "100", "active", 1),
        ("D-2", "250.5", "active", 1),
    ]
    # A late correction (JSON lines this time) updates in place and bumps the revision.
    late = await push(
        client,
        source,
        b'{"id": "D-1", "owner": "ada@example.com", "amount": 120, "currency": "EUR", '
        b'"closed_at": "2026-03-03T12:00:00Z", "stage": "won", "action": "update"}\n',
        content_type="application/x-ndjson",
    )
    assert late.status_code == 202
    deleted = await push(
        client, source, {"records": [deal("D-2", "bo@example.com", 0, action="delete")]}
    )
    assert deleted.status_code == 202
    assert await _transactions(container, env) == [
        ("D-1", "120", "active", 2),
        ("D-2", "250.5", "deleted", 2),
    ]
    # Each loaded record names the transaction it touched and the template version.
    detail = await receipt(client, org, late.json()["receipt_id"])
    [result] = detail["results"]
    assert result["status"] == "loaded"
    assert result["target_id"].startswith("txn_")
    assert result["template_version"] == 1
    await assert_nothing_lost(client, org, source["id"], sent=4)


async def test_records_that_map_to_nothing_valid_are_rejected_with_reasons(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env, name="Ada", email="ada@example.com")
    source = await create_source(client, org)
    response = await push(
        client,
        source,
        [
            deal("OK-1", "ada@example.com"),
            deal("BAD-1", "nobody@example.com"),  # unknown employee
            deal("BAD-2", "ada@example.com", "twelve"),  # not a number
            {"nothing": "here"},  # maps to an object missing everything
            deal("BAD-3", "ada@example.com", closed_at="yesterday"),
            7,  # not an object at all
        ],
    )
    assert response.status_code == 202
    assert response.json()["accepted"] == 1
    assert response.json()["rejected"] == 5
    detail = await receipt(client, org, response.json()["receipt_id"])
    by_position = {r["position"]: r for r in detail["results"]}
    assert by_position[0]["status"] == "loaded"
    assert by_position[1]["reason_code"] == "unknown_employee"
    assert "nobody@example.com" in by_position[1]["reason"]
    assert by_position[2]["stage"] == "validation"
    assert by_position[2]["reason"].startswith("$.value")
    assert by_position[3]["stage"] == "validation"
    assert by_position[4]["reason"].startswith("$.occurred_at")
    assert by_position[5]["stage"] == "parse"
    assert [e for e, *_ in await _transactions(container, env)] == ["OK-1"]
    rejects = await records(client, org, source["id"])
    assert len(rejects) == 5
    only_parse = await records(client, org, source["id"], stage="parse")
    assert [r["position"] for r in only_parse] == [5]
    await assert_nothing_lost(client, org, source["id"], sent=6)


async def test_the_push_url_needs_no_api_key_but_the_admin_api_does(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    source = await create_source(client, org)
    unknown = await client.post("/ingest/not-a-token", json={"id": 1})
    assert unknown.status_code == 404
    listed = await client.get("/api/v1/sources")
    assert listed.status_code == 401
    mine = await client.get("/api/v1/sources", headers=bearer(org))
    assert [s["id"] for s in mine.json()["data"]] == [source["id"]]
