"""Each verification scheme through real HTTP: valid, invalid, stale, rotated; failures are
401 and recorded with their cause."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from plaudit.app_container import Container
from plaudit.store.ingest_tables import ingest_requests
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.ingest.helpers import create_source, hmac_signature, push, receipt

EVENT_TEMPLATE = '{"type": "milestone.birthday", "data": data}'
BODY = orjson.dumps(
    {
        "data": {
            "employee": {"id": "usr_1", "external_id": None, "email": None, "name": "Ada"},
            "occurred_on": "2026-12-04",
        }
    }
)


async def _source(
    client: httpx.AsyncClient, org: CreatedOrganization, verification: dict[str, Any]
) -> dict[str, Any]:
    return await create_source(
        client, org, record_type="event", template=EVENT_TEMPLATE, verification=verification
    )


async def _rejected_with(
    client: httpx.AsyncClient, org: CreatedOrganization, response: httpx.Response, code: str
) -> None:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == code
    stored = await receipt(client, org, error["details"]["receipt_id"])
    assert stored["status"] == "rejected"
    assert stored["reject_code"] == code
    assert stored["records"] == 0
    assert stored["results"] == []


@pytest.mark.parametrize(
    ("algorithm", "encoding", "prefix"),
    [("sha256", "hex", "sha256="), ("sha512", "base64", ""), ("sha256", "base64", "v0=")],
)
async def test_hmac_over_the_body(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    algorithm: str,
    encoding: str,
    prefix: str,
) -> None:
    source = await _source(
        client,
        org,
        {
            "type": "hmac",
            "algorithm": algorithm,
            "encoding": encoding,
            "header": "X-Hub-Signature",
            "prefix": prefix,
        },
    )
    secret = source["secret"]
    good = prefix + hmac_signature(secret, BODY, algorithm, hex_=encoding == "hex")
    ok = await push(client, source, BODY, headers={"x-hub-signature": good})
    assert ok.status_code == 202, ok.text
    assert ok.json()["accepted"] == 1
    tampered = await push(client, source, BODY + b" ", headers={"x-hub-signature": good})
    await _rejected_with(client, org, tampered, "invalid_signature")
    missing = await push(client, source, BODY)
    await _rejected_with(client, org, missing, "missing_signature")
    wrong = prefix + hmac_signature("not-the-secret-at-all", BODY, algorithm, encoding == "hex")
    await _rejected_with(
        client, org, await push(client, source, BODY, headers={"x-hub-signature": wrong}),
        "invalid_signature",
    )  # fmt: skip


async def test_hmac_with_a_timestamp_refuses_stale_requests(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    source = await _source(
        client,
        org,
        {
            "type": "hmac",
            "signed_content": "timestamp.body",
            "timestamp_header": "X-Timestamp",
            "tolerance_s": 300,
        },
    )
    secret = source["secret"]

    def headers(stamp: int) -> dict[str, str]:
        signed = b"%d.%s" % (stamp, BODY)
        return {"x-signature": hmac_signature(secret, signed), "x-timestamp": str(stamp)}

    now = int(time.time())
    assert (await push(client, source, BODY, headers=headers(now))).status_code == 202
    stale = await push(client, source, BODY, headers=headers(now - 3600))
    await _rejected_with(client, org, stale, "stale_timestamp")
    garbage = {**headers(now), "x-timestamp": "yesterday"}
    await _rejected_with(
        client, org, await push(client, source, BODY, headers=garbage), "invalid_timestamp"
    )


async def test_standard_webhooks_verified_against_the_reference_signer(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    source = await _source(client, org, {"type": "standard_webhooks"})
    assert source["secret"].startswith("whsec_")
    signer = Webhook(source["secret"])
    now = int(time.time())

    def headers(message_id: str, stamp: int) -> dict[str, str]:
        from datetime import UTC, datetime

        signature = signer.sign(message_id, datetime.fromtimestamp(stamp, UTC), BODY.decode())
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature,
        }

    ok = await push(client, source, BODY, headers=headers("msg_1", now))
    assert ok.status_code == 202, ok.text
    stale = await push(client, source, BODY, headers=headers("msg_2", now - 600))
    await _rejected_with(client, org, stale, "stale_timestamp")
    forged = {**headers("msg_3", now), "webhook-id": "msg_other"}
    await _rejected_with(
        client, org, await push(client, source, BODY, headers=forged), "invalid_signature"
    )


async def test_rotation_keeps_the_old_secret_for_the_overlap_only(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    source = await _source(client, org, {"type": "hmac"})
    old = source["secret"]
    rotated = await client.post(
        f"/api/v1/sources/{source['id']}/rotate-secret",
        json={"overlap_s": 3600},
        headers=bearer(org),
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old
    hints = rotated.json()["verification"]["secrets"]
    assert [h["expires_at"] is None for h in hints] == [True, False]
    assert all(new not in str(h) and old not in str(h) for h in hints)
    for secret in (old, new):
        signed = {"x-signature": hmac_signature(secret, BODY)}
        assert (await push(client, source, BODY, headers=signed)).status_code == 202
    # Without overlap the old secret stops at once.
    await client.post(
        f"/api/v1/sources/{source['id']}/rotate-secret",
        json={"overlap_s": 0},
        headers=bearer(org),
    )
    for secret in (old, new):
        signed = {"x-signature": hmac_signature(secret, BODY)}
        await _rejected_with(
            client, org, await push(client, source, BODY, headers=signed), "invalid_signature"
        )


async def test_basic_auth_and_api_key(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    basic = await _source(client, org, {"type": "basic_auth", "username": "crm"})
    token = base64.b64encode(f"crm:{basic['secret']}".encode()).decode()
    ok = await push(client, basic, BODY, headers={"authorization": f"Basic {token}"})
    assert ok.status_code == 202
    wrong = base64.b64encode(b"crm:guess").decode()
    await _rejected_with(
        client,
        org,
        await push(client, basic, BODY, headers={"authorization": f"Basic {wrong}"}),
        "invalid_credentials",
    )
    keyed = await _source(
        client, org, {"type": "api_key", "header": "X-Partner-Key", "secret": "s" * 24}
    )
    assert keyed["secret"] == "s" * 24
    ok = await push(client, keyed, BODY, headers={"x-partner-key": "s" * 24})
    assert ok.status_code == 202
    # Stored as received, except credentials.
    stored = await container.db.read_with(
        lambda c: c.execute(
            select(ingest_requests.c.headers).where(ingest_requests.c.id == ok.json()["receipt_id"])
        ).scalar_one()
    )
    assert ["x-partner-key", "[redacted]"] in stored
    assert "s" * 24 not in str(stored)
    await _rejected_with(
        client,
        org,
        await push(client, keyed, BODY, headers={"x-partner-key": "s" * 23}),
        "invalid_credentials",
    )


@pytest.mark.parametrize(
    "verification",
    [
        {"type": "magic"},
        {},
        {"type": "hmac", "algorithm": "md5"},
        {"type": "hmac", "secret": "short"},
        {"type": "standard_webhooks", "secret": "not-whsec"},
        {"type": "none", "secret": "x" * 20},
        {"type": "hmac", "secrets": [{"value": "x" * 20}]},
    ],
)
async def test_unknown_or_unusable_schemes_are_refused_at_creation(
    client: httpx.AsyncClient, org: CreatedOrganization, verification: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/v1/sources",
        json={
            "name": "x",
            "record_type": "event",
            "template": EVENT_TEMPLATE,
            "verification": verification,
        },
        headers=bearer(org),
    )
    assert response.status_code == 422, response.text
    listed = await client.get("/api/v1/sources", headers=bearer(org))
    assert listed.json()["data"] == []


async def test_secrets_are_shown_once(client: httpx.AsyncClient, org: CreatedOrganization) -> None:
    source = await _source(client, org, {"type": "hmac"})
    shown = await client.get(f"/api/v1/sources/{source['id']}", headers=bearer(org))
    assert source["secret"] not in shown.text
    assert "secret" not in shown.json()
