"""Every record's outcome stays visible though loaded records keep no row of their own."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from plaudit.app_container import Container
from plaudit.store.ingest_tables import ingest_records, transactions
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.ingest.helpers import (
    assert_nothing_lost,
    deal,
    push,
    receipt,
    records,
    source_for_ada,
)


async def _rows(container: Container, table: Any, **where: str) -> int:
    return int(
        await container.db.read_with(
            lambda c: c.execute(
                select(func.count())
                .select_from(table)
                .where(*(table.c[name] == value for name, value in where.items()))
            ).scalar_one()
        )
    )


async def test_a_receipt_shows_each_record_loaded_rejected_or_duplicate(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    _, source = await source_for_ada(
        client, container, org, dedupe={"type": "path", "path": "$.id"}
    )
    body = [
        deal("D-1", "ada@example.com"),
        deal("D-2", "nobody@example.com"),  # no such employee: rejected
        deal("D-1", "ada@example.com"),  # the first one's key again: duplicate
        deal("D-3", "ada@example.com", amount=7),
    ]
    response = await push(client, source, body)
    assert response.json()["accepted"] == 3
    detail = await receipt(client, org, response.json()["receipt_id"])

    assert [r["position"] for r in detail["results"]] == [0, 1, 2, 3]
    assert [r["status"] for r in detail["results"]] == [
        "loaded",
        "rejected",
        "duplicate",
        "loaded",
    ]
    first, _, duplicate, last = detail["results"]
    assert duplicate["reason"] == f"already received as {first['id']}"
    for loaded in (first, last):
        assert loaded["target_id"].startswith("txn_")
        assert loaded["id"].startswith("inr_")
        assert loaded["template_version"] == 1
        assert loaded["dedupe_key"] is not None
        assert loaded["created_at"] == detail["processed_at"]
    stored_ids = await container.db.read_with(
        lambda c: set(c.execute(select(transactions.c.id)).scalars())
    )
    assert {first["target_id"], last["target_id"]} <= stored_ids
    # Only the reject and the duplicate have a row of their own.
    assert await _rows(container, ingest_records, request_id=detail["id"]) == 2
    await assert_nothing_lost(client, org, source["id"], sent=4)


async def test_the_records_list_pages_through_loaded_and_stored_records_in_order(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    _, source = await source_for_ada(client, container, org)
    sent = 0
    for request in range(3):
        body = [
            deal(f"R{request}-{n}", "ada@example.com" if n % 3 else "nobody@example.com")
            for n in range(5)
        ]
        await push(client, source, body)
        sent += len(body)

    for status, expected in (("any", 15), ("loaded", 9), ("rejected", 6)):
        seen: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"status": status, "limit": 4}
            if cursor:
                params["cursor"] = cursor
            response = await client.get(
                f"/api/v1/sources/{source['id']}/records",
                params=params,
                headers=bearer(org),
            )
            assert response.status_code == 200, response.text
            seen.extend(response.json()["data"])
            cursor = response.json()["next_cursor"]
            if not cursor:
                break
        assert len(seen) == expected, status
        assert len({r["id"] for r in seen}) == expected
        if status != "rejected":  # by request, then position
            keys = [(r["request_id"], r["position"]) for r in seen]
            assert keys == sorted(keys)
        assert all(status in ("any", r["status"]) for r in seen)

    one_request = (await records(client, org, source["id"], status="any"))[0]["request_id"]
    narrowed = await records(client, org, source["id"], status="loaded", request_id=one_request)
    assert [r["position"] for r in narrowed] == [1, 2, 4]
    assert await records(client, org, source["id"], status="loaded", stage="load") == []
    await assert_nothing_lost(client, org, source["id"], sent=sent)
