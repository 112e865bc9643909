"""What every Connect GET does: ETag revalidation (304) and the per-key rate limit (429)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.connect.rate_limit import TokenBuckets
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.connect.seed import connect_headers, seed

BASE = "/connect/v1"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_etag_and_if_none_match(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    s = await seed(client, org)
    headers = await connect_headers(container, org)
    first = await client.get(f"{BASE}/users/{s.ada}", headers=headers)
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert first.headers["Cache-Control"] == "private, no-cache"

    for condition in (etag, f"W/{etag}", f'"other", {etag}', "*", f'"x",W/{etag} '):
        again = await client.get(
            f"{BASE}/users/{s.ada}", headers={**headers, "If-None-Match": condition}
        )
        assert again.status_code == 304, condition
        assert again.content == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "private, no-cache"

    for condition in ('"other"', "garbage", etag[1:], f"{etag}, garbage"):
        full = await client.get(
            f"{BASE}/users/{s.ada}", headers={**headers, "If-None-Match": condition}
        )
        assert full.status_code == 200, condition
        assert full.json() == first.json()

    # A change to the user changes the tag: the stale one gets the full body.
    await client.patch(
        f"/api/v1/employees/{s.ada}", headers=bearer(org), json={"department": "Research"}
    )
    stale = await client.get(f"{BASE}/users/{s.ada}", headers={**headers, "If-None-Match": etag})
    assert stale.status_code == 200
    assert stale.json()["department"] == "Research"
    assert stale.headers["ETag"] != etag

    # Lists and the events feed are tagged too.
    listed = await client.get(f"{BASE}/users", headers=headers)
    assert (
        await client.get(
            f"{BASE}/users", headers={**headers, "If-None-Match": listed.headers["ETag"]}
        )
    ).status_code == 304
    feed = await client.get(f"{BASE}/events", headers=headers)
    assert (
        await client.get(
            f"{BASE}/events", headers={**headers, "If-None-Match": feed.headers["ETag"]}
        )
    ).status_code == 304

    # Errors are never tagged.
    missing = await client.get(f"{BASE}/users/usr_nope", headers={**headers, "If-None-Match": "*"})
    assert missing.status_code == 404
    assert "ETag" not in missing.headers


@pytest.fixture
def tight_limit(container: Container) -> Iterator[FakeMonotonic]:
    clock = FakeMonotonic()
    saved = container.connect_limiter
    container.connect_limiter = TokenBuckets(0.5, 3, monotonic=clock)
    try:
        yield clock
    finally:
        container.connect_limiter = saved


async def test_rate_limit_per_key_then_recovery(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    tight_limit: FakeMonotonic,
) -> None:
    headers = await connect_headers(container, org)
    other_key = await connect_headers(container, org)
    remaining = []
    for _ in range(3):
        ok = await client.get(f"{BASE}/groups", headers=headers)
        assert ok.status_code == 200
        assert ok.headers["RateLimit-Limit"] == "3"
        remaining.append(int(ok.headers["RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]

    refused = await client.get(f"{BASE}/groups", headers=headers)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"  # one token at 0.5/s
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["details"] == {"retry_after_s": 2}
    # A 304 costs a request too: the limit counts requests, not bodies.
    assert (await client.get(f"{BASE}/groups", headers=headers)).status_code == 429

    # Another key has its own bucket.
    assert (await client.get(f"{BASE}/groups", headers=other_key)).status_code == 200

    tight_limit.now += 1.0
    still = await client.get(f"{BASE}/groups", headers=headers)
    assert still.status_code == 429
    assert still.headers["Retry-After"] == "1"
    tight_limit.now += 1.0
    assert (await client.get(f"{BASE}/groups", headers=headers)).status_code == 200
    assert (await client.get(f"{BASE}/groups", headers=headers)).status_code == 429
