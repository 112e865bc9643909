"""Body formats, malformed bodies, the size limit and content types: a clear answer, a
recorded reason, nothing lost."""

from __future__ import annotations

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.engagement.factories import make_employee
from tests.integration.ingest.helpers import (
    assert_nothing_lost,
    create_source,
    push,
    receipt,
)

TEMPLATE = """{
  "external_id": $string(id), "employee": {"email": owner}, "metric": "calls",
  "value": $number(n), "occurred_at": "2026-03-01T09:00:00Z"
}"""


async def _setup(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> dict[str, object]:
    env = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env, email="ada@example.com")
    return await create_source(client, org, template=TEMPLATE)


@pytest.mark.parametrize(
    ("content_type", "body", "loaded"),
    [
        ("application/json", b'{"id": 1, "owner": "ada@example.com", "n": 3}', 1),
        (
            "application/json",
            b'[{"id": 1, "owner": "ada@example.com", "n": 3},'
            b' {"id": 2, "owner": "ada@example.com", "n": "4"}]',
            2,
        ),
        (
            "application/json; charset=utf-8",
            b'{"records": [{"id": 1, "owner": "ada@example.com", "n": 3}]}',
            1,
        ),
        (
            "application/x-ndjson",
            b'{"id": 1, "owner": "ada@example.com", "n": 3}\n\n'
            b'{"id": 2, "owner": "ada@example.com", "n": 5}\n',
            2,
        ),
        ("text/csv", b"id,owner,n\r\n1,ada@example.com,3\r\n2,ada@example.com,4\r\n", 2),
        ("", b'{"id": 1, "owner": "ada@example.com", "n": 3}', 1),
    ],
)
async def test_every_body_format_loads(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    content_type: str,
    body: bytes,
    loaded: int,
) -> None:
    source = await _setup(client, container, org)
    response = await push(client, source, body, content_type=content_type)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "receipt_id": response.json()["receipt_id"],
        "status": "processed",
        "accepted": loaded,
        "rejected": 0,
        "duplicates": 0,
    }
    stored = await receipt(client, org, response.json()["receipt_id"])
    assert stored["size"] == len(body)


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("application/json", b'{"id": 1, "owner": ', 400, "malformed_json"),
        ("application/json", b"", 400, "empty_body"),
        ("application/json", b'"just a string"', 400, "malformed_body"),
        ("application/json", b'{"records": 5}', 400, "malformed_body"),
        ("text/csv", b"\xff\xfe,\x00", 400, "malformed_csv"),
        ("text/csv", b"id,id\n1,2\n", 400, "malformed_csv"),
        ("application/xml", b"<deal/>", 415, "unsupported_media_type"),
    ],
)
async def test_unreadable_bodies_are_answered_and_kept(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    content_type: str,
    body: bytes,
    status: int,
    code: str,
) -> None:
    source = await _setup(client, container, org)
    response = await push(client, source, body, content_type=content_type)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    stored = await receipt(client, org, error["details"]["receipt_id"])
    assert stored["status"] == "rejected"
    assert stored["reject_code"] == code
    [record] = stored["results"]
    assert record["status"] == "rejected"
    assert record["stage"] == "parse"
    await assert_nothing_lost(client, org, str(source["id"]), sent=1)


async def test_bad_lines_are_rejected_one_by_one(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    source = await _setup(client, container, org)
    lines = await push(
        client,
        source,
        b'{"id": 1, "owner": "ada@example.com", "n": 1}\n{"id": 2, "own\n[1, 2]\n'
        b'{"id": 3, "owner": "ada@example.com", "n": 3}\n',
        content_type="application/x-ndjson",
    )
    assert lines.status_code == 202
    assert (lines.json()["accepted"], lines.json()["rejected"]) == (2, 2)
    csv = await push(
        client,
        source,
        b"id,owner,n\n1,ada@example.com,1\n2,ada@example.com\n3,ada@example.com,3\n",
        content_type="text/csv",
    )
    assert (csv.json()["accepted"], csv.json()["rejected"]) == (2, 1)
    stored = await receipt(client, org, csv.json()["receipt_id"])
    assert "has 2 cells; the header has 3" in stored["results"][1]["reason"]
    # PostgreSQL cannot store NUL characters: such a record is rejected, not a 500.
    nul = await push(
        client,
        source,
        b'[{"id": 1, "owner": "ada@example.com", "n": 1}, {"id": "\\u0000", "n": 2}]',
    )
    assert (nul.json()["accepted"], nul.json()["rejected"]) == (1, 1)
    await assert_nothing_lost(client, org, str(source["id"]), sent=9)


async def test_a_body_over_the_limit_is_413_and_recorded(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    source = await _setup(client, container, org)
    limit = container.settings.ingest_max_body_bytes
    response = await push(client, source, b"[" + b" " * limit + b"]")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    stored = await receipt(client, org, error["details"]["receipt_id"])
    assert stored["status"] == "rejected"
    assert stored["size"] > limit
    # The admin API keeps its own, smaller limit; the push URL is exempt from it.
    admin_limit = container.settings.max_body_bytes
    assert limit > admin_limit
    body = b'{"id": 1, "owner": "ada@example.com", "n": 3, "pad": "' + b"x" * admin_limit + b'"}'
    assert (await push(client, source, body)).status_code == 202
