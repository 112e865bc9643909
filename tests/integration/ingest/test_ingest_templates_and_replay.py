"""Preview stores nothing; template versions; rejects replayed after a fix; a looping
template is a recorded reject, not a hung request; pause, resume, delete."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import func, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.store.ingest_tables import ingest_records, ingest_requests
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

# Expects `owner_email`; the sender actually sends `owner`: every record is rejected.
WRONG = """{"external_id": id, "employee": {"email": owner_email}, "metric": "revenue",
  "value": amount, "occurred_at": closed_at}"""
FIXED = WRONG.replace("owner_email", "owner")


async def _stored_rows(container: Container) -> tuple[int, int]:
    def unit(conn: object) -> tuple[int, int]:
        from sqlalchemy import Connection

        assert isinstance(conn, Connection)
        return (
            conn.execute(select(func.count()).select_from(ingest_requests)).scalar_one(),
            conn.execute(select(func.count()).select_from(ingest_records)).scalar_one(),
        )

    return await container.db.read_with(unit)


async def test_preview_maps_or_pinpoints_and_stores_nothing(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    source = await create_source(client, org, template=FIXED)
    before = await _stored_rows(container)
    url = f"/api/v1/sources/{source['id']}/preview"
    ok = await client.post(
        url, json={"sample": [deal("D-1", "a@x.io"), {"id": "D-2"}]}, headers=bearer(org)
    )
    assert ok.status_code == 200, ok.text
    first, second = ok.json()["records"]
    assert first["error"] is None
    assert first["output"]["employee"] == {"email": "a@x.io"}
    assert second["error"]["stage"] == "validation"
    assert ok.json()["template_version"] == 1
    csv = await client.post(
        url,
        json={"sample": "id,owner,amount,closed_at\nD-3,a@x.io,5,2026-01-01T00:00:00Z\n",
              "content_type": "text/csv"},
        headers=bearer(org),
    )  # fmt: skip
    assert csv.json()["records"][0]["output"]["value"] == "5"
    draft = await client.post(
        url, json={"sample": deal("D-1", "a@x.io"), "template": '{"x": $foo('}, headers=bearer(org)
    )
    assert draft.status_code == 422
    assert draft.json()["error"]["code"] == "invalid_template"
    assert draft.json()["error"]["details"]["position"] is not None
    runtime = await client.post(
        url,
        json={"sample": deal("D-1", "a@x.io"), "template": '{"v": amount + "x"}'},
        headers=bearer(org),
    )
    error = runtime.json()["records"][0]["error"]
    assert error["stage"] == "template"
    assert error["engine"] == "T2002"  # right side of + is not a number
    assert "T2002" in error["message"]
    assert await _stored_rows(container) == before


async def test_rejects_are_replayed_after_the_template_is_fixed(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env, email="ada@example.com")
    source = await create_source(client, org, template=WRONG)
    sent = [deal(f"D-{i}", "ada@example.com", i) for i in range(4)]
    first = await push(client, source, sent[:3])
    second = await push(client, source, [*sent[3:], deal("D-9", "nobody@example.com")])
    assert first.json()["rejected"] == 3
    assert second.json()["rejected"] == 2
    rejects = await records(client, org, source["id"])
    assert len(rejects) == 5
    assert {r["stage"] for r in rejects} == {"validation"}
    assert {r["template_version"] for r in rejects} == {1}

    patched = await client.patch(
        f"/api/v1/sources/{source['id']}", json={"template": FIXED}, headers=bearer(org)
    )
    assert patched.json()["template_version"] == 2
    versions = await client.get(f"/api/v1/sources/{source['id']}/templates", headers=bearer(org))
    assert [v["version"] for v in versions.json()] == [2, 1]

    # One record by id first, then everything else.
    one = await client.post(
        f"/api/v1/sources/{source['id']}/replay",
        json={"record_ids": [rejects[0]["id"]]},
        headers=bearer(org),
    )
    assert one.json()["loaded"] == 1
    rest = await client.post(
        f"/api/v1/sources/{source['id']}/replay", json={"all": True}, headers=bearer(org)
    )
    assert rest.status_code == 200, rest.text
    assert rest.json() == {
        "replayed": 4,
        "loaded": 3,
        "rejected": 1,
        "duplicates": 0,
        "not_replayable": 0,
        "template_version": 2,
    }
    [left] = await records(client, org, source["id"])
    assert left["reason_code"] == "unknown_employee"
    assert left["attempts"] == 2
    detail = await receipt(client, org, first.json()["receipt_id"])
    assert (detail["loaded"], detail["rejected"]) == (3, 0)
    assert {r["template_version"] for r in detail["results"]} == {2}
    await assert_nothing_lost(client, org, source["id"], sent=5)
    scope = await client.post(
        f"/api/v1/sources/{source['id']}/replay", json={}, headers=bearer(org)
    )
    assert scope.status_code == 400


async def test_a_looping_template_is_rejected_in_bounded_time(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    source = await create_source(
        client,
        org,
        template="($f := function($n){ $f($n + 1) }; $f(0))",
    )
    started = time.monotonic()
    response = await push(client, source, [deal(f"D-{i}", "a@x.io") for i in range(20)])
    elapsed = time.monotonic() - started
    assert response.status_code == 202
    assert response.json()["rejected"] == 20
    assert elapsed < 5
    codes = {r["reason_code"] for r in await records(client, org, source["id"])}
    assert codes <= {"template_time_limit", "template_depth_limit", "template_error",
                     "template_skipped"}  # fmt: skip
    bomb = await create_source(client, org, template='$pad("", 1000000000)')
    exploded = await push(client, bomb, deal("D-1", "a@x.io"))
    assert exploded.json()["rejected"] == 1
    await assert_nothing_lost(client, org, source["id"], sent=20)


async def test_pause_holds_requests_and_resume_processes_them(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env, email="ada@example.com")
    source = await create_source(client, org, template=FIXED)
    paused = await client.post(f"/api/v1/sources/{source['id']}/pause", headers=bearer(org))
    assert paused.json()["status"] == "paused"
    held = await push(client, source, deal("D-1", "ada@example.com"))
    assert held.status_code == 202
    assert held.json()["status"] == "held"
    assert (await receipt(client, org, held.json()["receipt_id"]))["status"] == "held"
    resumed = await client.post(f"/api/v1/sources/{source['id']}/resume", headers=bearer(org))
    assert resumed.json()["status"] == "active"
    done = await receipt(client, org, held.json()["receipt_id"])
    assert (done["status"], done["loaded"]) == ("processed", 1)
    deleted = await client.delete(f"/api/v1/sources/{source['id']}", headers=bearer(org))
    assert deleted.status_code == 204
    assert (await push(client, source, deal("D-2", "ada@example.com"))).status_code == 404
    gone = await client.get(f"/api/v1/sources/{source['id']}", headers=bearer(org))
    assert gone.status_code == 404
    # The receipt stays readable for audit.
    assert (await receipt(client, org, held.json()["receipt_id"]))["loaded"] == 1


async def test_bad_templates_and_record_types_are_refused_at_creation(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    base = {"name": "x", "record_type": "transaction", "verification": {"type": "none"}}
    broken = await client.post(
        "/api/v1/sources", json={**base, "template": "{ id: "}, headers=bearer(org)
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["code"] == "invalid_template"
    unknown = await client.post(
        "/api/v1/sources",
        json={**base, "record_type": "deal", "template": "$"},
        headers=bearer(org),
    )
    assert unknown.status_code == 422
    bad_path = await client.post(
        "/api/v1/sources",
        json={**base, "template": "$", "dedupe": {"type": "path", "path": "id"}},
        headers=bearer(org),
    )
    assert bad_path.status_code == 422
    listed = await client.get("/api/v1/sources", headers=bearer(org))
    assert listed.json()["data"] == []
    other_org = await client.get("/api/v1/receipts/rcp_nothing", headers=bearer(org))
    assert other_org.status_code == 404
