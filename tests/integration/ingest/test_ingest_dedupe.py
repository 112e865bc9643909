"""Dedupe by header, record path and body hash, enforced by a unique constraint: duplicates are
recorded, not loaded again, and answered 2xx; concurrent duplicates load once."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.store.ingest_tables import transactions
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.engagement.factories import make_employee
from tests.integration.ingest.helpers import (
    assert_nothing_lost,
    create_source,
    deal,
    push,
    receipt,
)

# `seq` makes each record distinct for the store, so only dedupe can stop a second load.
TEMPLATE = """{
  "external_id": id & "-" & $string(seq), "employee": {"email": owner}, "metric": "revenue",
  "value": amount, "occurred_at": closed_at
}"""


async def _count(container: Container, env: str) -> int:
    return int(
        await container.db.read_with(
            lambda c: c.execute(
                select(func.count()).where(transactions.c.environment_id == env)
            ).scalar_one()
        )
    )


async def _ready(container: Container, org: CreatedOrganization) -> str:
    env = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env, email="ada@example.com")
    return env


async def test_dedupe_by_header(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = await _ready(container, org)
    source = await create_source(
        client, org, template=TEMPLATE, dedupe={"type": "header", "header": "Idempotency-Key"}
    )
    batch = [deal("D-1", "ada@example.com", seq=1), deal("D-2", "ada@example.com", seq=1)]
    first = await push(client, source, batch, headers={"idempotency-key": "k1"})
    assert first.json()["accepted"] == 2
    # A retry of the same delivery (new bytes even: a re-serialized body) loads nothing.
    again = [deal("D-1", "ada@example.com", seq=2), deal("D-2", "ada@example.com", seq=2)]
    retry = await push(client, source, again, headers={"idempotency-key": "k1"})
    assert retry.status_code == 202
    assert retry.json()["duplicates"] == 2
    assert retry.json()["accepted"] == 2  # accepted: the sender must not resend
    other = await push(client, source, again, headers={"idempotency-key": "k2"})
    assert other.json()["duplicates"] == 0
    no_key = await push(client, source, again)
    assert no_key.json()["rejected"] == 2
    detail = await receipt(client, org, no_key.json()["receipt_id"])
    assert {r["reason_code"] for r in detail["results"]} == {"missing_dedupe_key"}
    assert await _count(container, env) == 4
    await assert_nothing_lost(client, org, source["id"], sent=8)


async def test_dedupe_by_record_path_within_and_across_requests(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = await _ready(container, org)
    source = await create_source(
        client, org, template=TEMPLATE, dedupe={"type": "path", "path": "$.meta.event_id"}
    )

    def keyed(event_id: str, seq: int) -> dict[str, object]:
        return {**deal("D-1", "ada@example.com", seq=seq), "meta": {"event_id": event_id}}

    first = await push(client, source, [keyed("e1", 1), keyed("e1", 2), keyed("e2", 3)])
    assert (first.json()["accepted"], first.json()["duplicates"]) == (3, 1)
    detail = await receipt(client, org, first.json()["receipt_id"])
    assert detail["results"][1]["status"] == "duplicate"
    assert detail["results"][1]["reason"] == f"already received as {detail['results'][0]['id']}"
    second = await push(client, source, [keyed("e2", 4), keyed("e3", 5)])
    assert (second.json()["duplicates"], second.json()["rejected"]) == (1, 0)
    assert await _count(container, env) == 3
    await assert_nothing_lost(client, org, source["id"], sent=5)


async def test_dedupe_by_body_hash(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = await _ready(container, org)
    source = await create_source(client, org, template=TEMPLATE, dedupe={"type": "body_hash"})
    body = b'{"id": "D-1", "seq": 1, "owner": "ada@example.com", "amount": 5, ' \
        b'"closed_at": "2026-01-01T00:00:00Z"}'  # fmt: skip
    assert (await push(client, source, body)).json()["duplicates"] == 0
    assert (await push(client, source, body)).json()["duplicates"] == 1
    # Other bytes, other hash: loaded again (the store sees the same deal: unchanged).
    changed = await push(client, source, body + b"\n")
    assert (changed.json()["duplicates"], changed.json()["accepted"]) == (0, 1)
    detail = await receipt(client, org, changed.json()["receipt_id"])
    assert detail["results"][0]["status"] == "loaded"
    assert await _count(container, env) == 1


async def test_a_rejected_record_does_not_hold_its_key(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = await _ready(container, org)
    source = await create_source(
        client, org, template=TEMPLATE, dedupe={"type": "path", "path": "$.id"}
    )
    bad = await push(client, source, deal("D-9", "stranger@example.com", seq=1))
    assert bad.json()["rejected"] == 1
    fixed = await push(client, source, deal("D-9", "ada@example.com", seq=1))
    assert fixed.json()["accepted"] == 1
    assert fixed.json()["duplicates"] == 0
    assert await _count(container, env) == 1


async def test_concurrent_duplicates_load_once(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = await _ready(container, org)
    source = await create_source(
        client, org, template=TEMPLATE, dedupe={"type": "header", "header": "webhook-id"}
    )
    batch = [deal(f"D-{i}", "ada@example.com", seq=0) for i in range(5)]
    answers = await asyncio.gather(
        *(
            push(client, source, [{**d, "seq": n} for d in batch], headers={"webhook-id": "m1"})
            for n in range(8)
        )
    )
    assert all(a.status_code == 202 for a in answers)
    assert sum(a.json()["duplicates"] for a in answers) == 35
    assert await _count(container, env) == 5
    await assert_nothing_lost(client, org, source["id"], sent=40)


async def test_concurrent_creates_of_one_external_id_give_one_transaction(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    # No dedupe: the transaction store's own unique key must hold under the race.
    env = await _ready(container, org)
    source = await create_source(client, org)
    answers = await asyncio.gather(
        *(push(client, source, deal("SAME", "ada@example.com", 10 + n)) for n in range(6))
    )
    assert all(a.json()["accepted"] == 1 for a in answers)
    assert await _count(container, env) == 1
