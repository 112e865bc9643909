"""Text neither database can hold (NUL, lone surrogates) is a 4xx on every route, never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx

from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.employee_helpers import (
    EMPLOYEES,
    GROUPS,
    IMPORT,
    all_employees,
    create_employee,
)

BAD = ("nul\x00", "surrogate\ud800")


async def send(
    client: httpx.AsyncClient, method: str, url: str, org: CreatedOrganization, body: Any
) -> httpx.Response:
    """JSON with \\u escapes: how a client smuggles in text that UTF-8 cannot carry."""
    return await client.request(
        method,
        url,
        content=json.dumps(body).encode(),
        headers={**bearer(org), "Content-Type": "application/json"},
    )


async def test_employee_routes_refuse_or_find_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    employee = await create_employee(client, org)
    for text in BAD:
        created = await send(client, "POST", EMPLOYEES, org, {"name": text})
        assert created.status_code == 422, created.text
        assert created.json()["error"]["code"] == "invalid_characters"
        patched = await send(
            client, "PATCH", f"{EMPLOYEES}/{employee['id']}", org, {"department": text}
        )
        assert patched.status_code == 422, patched.text
        deactivated = await send(
            client, "POST", f"{EMPLOYEES}/{employee['id']}/deactivate", org, {"reason": text}
        )
        assert 400 <= deactivated.status_code < 500, deactivated.text
    for params in ({"email": "\x00"}, {"q": "a\x00"}, {"group_id": "\x00"}, {"location": "\x00"}):
        listed = await client.get(EMPLOYEES, params=params, headers=bearer(org))
        assert listed.status_code == 200, listed.text
        assert listed.json()["data"] == []
    nul_id = await client.get(f"{EMPLOYEES}/usr_%00", headers=bearer(org))
    assert nul_id.status_code == 404
    [unchanged] = await all_employees(client, org)
    assert unchanged == employee


async def test_import_rejects_the_rows_alone(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    rows = [
        {"external_id": "E-1", "name": "Fine"},
        {"external_id": "E-2", "name": "nul\x00"},
        {"external_id": "E-3", "name": "Boss?", "manager": "nul\x00"},
        {"external_id": "nul\x00", "name": "Key"},
    ]
    response = await send(client, "POST", IMPORT, org, {"employees": rows})
    assert response.status_code == 200, response.text
    report = response.json()
    assert [r["status"] for r in report["rows"]] == ["created", "rejected", "rejected", "rejected"]
    assert {e["code"] for r in report["rows"][1:] for e in r["errors"]} == {"invalid_characters"}
    # The import parses its own body, strictly: a lone surrogate makes it malformed JSON.
    surrogate = await send(client, "POST", IMPORT, org, {"employees": [{"name": "\ud800"}]})
    assert surrogate.status_code == 400
    assert surrogate.json()["error"]["code"] == "invalid_json"
    csv_body = b"name,email\nnul\x00,a@x.io\n"
    csv_response = await client.post(
        IMPORT, content=csv_body, headers={**bearer(org), "Content-Type": "text/csv"}
    )
    assert csv_response.status_code == 200
    assert csv_response.json()["summary"]["rejected"] == 1
    assert [e["external_id"] for e in await all_employees(client, org)] == ["E-1"]


async def test_group_routes_refuse_or_find_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    for text in BAD:
        for body in ({"name": text}, {"name": "ok", "description": text}):
            created = await send(client, "POST", GROUPS, org, body)
            assert created.status_code == 422, created.text
    group = (await client.post(GROUPS, json={"name": "Team"}, headers=bearer(org))).json()
    for text in BAD:
        added = await send(
            client, "PUT", f"{GROUPS}/{group['id']}/members", org, {"employee_ids": [text]}
        )
        assert added.status_code == 422, added.text
        assert added.json()["error"]["code"] == "unknown_employee"
        renamed = await send(client, "PATCH", f"{GROUPS}/{group['id']}", org, {"description": text})
        assert renamed.status_code == 422
    assert (await client.get(f"{GROUPS}/grp_%00", headers=bearer(org))).status_code == 404
    removed = await client.delete(f"{GROUPS}/{group['id']}/members/usr_%00", headers=bearer(org))
    assert removed.status_code == 404
    members = await client.get(f"{GROUPS}/grp_%00/members", headers=bearer(org))
    assert members.status_code == 404
    listed = (await client.get(GROUPS, headers=bearer(org))).json()["data"]
    assert [g["id"] for g in listed] == [group["id"]]
    assert listed[0]["description"] == ""
