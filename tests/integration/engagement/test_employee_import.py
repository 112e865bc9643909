"""Bulk import from JSON and CSV: upsert, per-row report, idempotency, managers, dry runs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from plaudit.domain.api_keys import Environment
from plaudit.engagement.employee_import_rows import MAX_ROWS
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.employee_helpers import (
    IMPORT,
    all_employees,
    create_employee,
    events_of,
    ref,
)

CSV = """external_id,email,name,department,manager,hire_date,time_zone
E-2,bob@example.com,Bob,Eng,E-1,2024-05-01,Europe/Paris
E-1,ada@example.com,Ada,Eng,,2020-01-15,
E-3,cy@example.com,Cy,Sales,ada@example.com,,America/New_York
"""


async def import_json(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    rows: list[Any],
    env: Environment = Environment.PRODUCTION,
    **params: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"employees": rows}
    if "match_on" in params:
        body["match_on"] = params.pop("match_on")
    return await client.post(IMPORT, json=body, params=params, headers=bearer(org, env))


async def import_csv(
    client: httpx.AsyncClient, org: CreatedOrganization, text: str, **params: Any
) -> httpx.Response:
    return await client.post(
        IMPORT,
        content=text.encode(),
        params=params,
        headers={**bearer(org), "Content-Type": "text/csv; charset=utf-8"},
    )


def statuses(report: dict[str, Any]) -> list[str]:
    return [row["status"] for row in report["rows"]]


async def test_csv_import_creates_with_managers_in_any_order_then_is_idempotent(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    first = await import_csv(client, org, CSV)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["summary"] == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert [r["row"] for r in report["rows"]] == [1, 2, 3]
    assert all(r["errors"] == [] for r in report["rows"])
    employees = {e["external_id"]: e for e in await all_employees(client, org)}
    assert [employees[k]["id"] for k in ("E-2", "E-1", "E-3")] == [
        r["employee_id"] for r in report["rows"]
    ]
    # Bob reports to Ada, who comes later in the file; Cy names Ada by email.
    assert employees["E-2"]["manager_id"] == employees["E-1"]["id"]
    assert employees["E-3"]["manager_id"] == employees["E-1"]["id"]
    assert employees["E-1"]["manager_id"] is None
    assert employees["E-1"]["time_zone"] == "UTC"  # empty cell: the default
    assert employees["E-2"]["hire_date"] == "2024-05-01"
    activated = await events_of(client, org, "employee.activated")
    assert [e["data"]["employee"] for e in activated] == [
        ref(employees[k]) for k in ("E-2", "E-1", "E-3")
    ]
    assert {e["data"]["reason"] for e in activated} == {"imported"}

    again = await import_csv(client, org, CSV)
    assert again.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    assert [r["employee_id"] for r in again.json()["rows"]] == [
        r["employee_id"] for r in report["rows"]
    ]
    assert len(await events_of(client, org, "employee.activated")) == 3
    assert len(await all_employees(client, org)) == 3


async def test_json_import_updates_only_given_fields_and_reports_them(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    ada = await create_employee(
        client, org, external_id="E-1", email="ada@example.com", department="Eng", location="UK"
    )
    bob = await create_employee(client, org, name="Bob", email="bob@example.com", location="UK")
    response = await import_json(
        client,
        org,
        [
            {"external_id": "E-1", "department": "Research"},
            {"email": "BOB@example.com", "location": "UK"},
            {"external_id": "E-9", "name": "New Person", "status": "inactive"},
            {"email": "ada@example.com", "location": "FR"},
        ],
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert statuses(report) == ["updated", "unchanged", "created", "rejected"]
    # Row 4 finds Ada by email after row 1 found her by external id: one row per employee.
    [twice] = report["rows"][3]["errors"]
    assert twice["code"] == "duplicate_in_file"
    assert ada["id"] in twice["message"]
    assert "row 1" in twice["message"]
    assert report["rows"][0] == {
        "row": 1,
        "status": "updated",
        "employee_id": ada["id"],
        "changed_fields": ["department"],
        "errors": [],
    }
    assert report["rows"][1]["employee_id"] == bob["id"]
    [fetched] = await all_employees(client, org, external_id="E-1")
    assert fetched["department"] == "Research"
    assert fetched["location"] == "UK"
    assert fetched["email"] == "ada@example.com"
    # Created inactive: no event; only Ada's and Bob's creations raised one.
    assert len(await events_of(client, org, "employee.activated")) == 2


async def test_status_changes_by_import_raise_the_events(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    ada = await create_employee(client, org, external_id="E-1")
    bob = await create_employee(client, org, name="Bob", external_id="E-2", status="inactive")
    response = await import_json(
        client,
        org,
        [{"external_id": "E-1", "status": "inactive"}, {"external_id": "E-2", "status": "active"}],
    )
    assert statuses(response.json()) == ["updated", "updated"]
    after = {e["external_id"]: e for e in await all_employees(client, org)}
    assert after["E-1"]["status"] == "inactive"
    assert after["E-1"]["deactivated_at"] is not None
    assert after["E-2"]["status"] == "active"
    assert after["E-2"]["deactivated_at"] is None
    [left] = await events_of(client, org, "employee.deactivated")
    assert left["data"]["employee"] == ref(ada)
    assert left["data"]["reason"] == "imported"
    activated = await events_of(client, org, "employee.activated")
    assert [e["data"]["employee"]["id"] for e in activated] == [ada["id"], bob["id"]]


async def test_rejected_rows_name_their_reasons_and_valid_rows_are_applied(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    existing = await create_employee(client, org, external_id="E-0", email="taken@example.com")
    rows: list[Any] = [
        {"external_id": "E-1", "name": "Fine"},
        {"external_id": "E-2", "name": "Bad date", "hire_date": "2023-02-30"},
        {"external_id": "E-3", "name": "Bad zone", "time_zone": "Nowhere/Else", "email": "x"},
        {"external_id": "E-1", "name": "Repeat"},
        {"external_id": "E-4", "name": "Taken", "email": "taken@example.com"},
        {"external_id": "E-5", "name": "Orphan", "manager": "E-404"},
        {"external_id": "E-6"},
        {"name": "No key"},
        {"external_id": "E-7", "name": "Extra", "nickname": "x", "manager_id": "usr_1"},
        "not an object",
        {"external_id": "E-8", "name": "Reports to a rejected row", "manager": "E-2"},
    ]
    response = await import_json(client, org, rows)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["summary"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 10}
    by_row = {r["row"]: r for r in report["rows"]}

    def errors(n: int) -> list[tuple[str, str]]:
        assert by_row[n]["status"] == "rejected"
        assert by_row[n]["employee_id"] is None
        return [(e["field"], e["code"]) for e in by_row[n]["errors"]]

    assert by_row[1]["status"] == "created"
    assert errors(2) == [("hire_date", "invalid_date")]
    assert errors(3) == [("time_zone", "invalid_time_zone"), ("email", "invalid_email")]
    assert errors(4) == [("external_id", "duplicate_in_file")]
    assert "row 1" in by_row[4]["errors"][0]["message"]
    assert errors(5) == [("email", "duplicate_email")]
    assert existing["id"] in by_row[5]["errors"][0]["message"]
    assert errors(6) == [("manager", "unknown_employee")]
    assert "E-404" in by_row[6]["errors"][0]["message"]
    assert errors(7) == [("name", "required")]
    assert errors(8) == [("external_id", "missing_key")]
    assert errors(9) == [("manager_id", "unknown_field"), ("nickname", "unknown_field")]
    assert errors(10) == [("row", "invalid_row")]
    assert errors(11) == [("manager", "manager_rejected")]
    assert "row 2" in by_row[11]["errors"][0]["message"]
    assert sorted(e["external_id"] for e in await all_employees(client, org)) == ["E-0", "E-1"]


async def test_dry_run_reports_the_same_and_writes_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    dry = await import_csv(client, org, CSV, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert dry.json()["summary"] == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert [r["employee_id"] for r in dry.json()["rows"]] == [None, None, None]
    assert await all_employees(client, org) == []
    assert await events_of(client, org, "employee.activated") == []
    real = await import_csv(client, org, CSV)
    assert real.json()["dry_run"] is False
    assert real.json()["summary"] == dry.json()["summary"]


async def test_match_on_email_updates_the_external_id(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    ada = await create_employee(client, org, email="ada@example.com")
    response = await import_json(
        client,
        org,
        [{"email": "ada@example.com", "external_id": "HR-1"}],
        match_on="email",
    )
    assert statuses(response.json()) == ["updated"]
    assert response.json()["rows"][0]["changed_fields"] == ["external_id"]
    [fetched] = await all_employees(client, org)
    assert fetched["id"] == ada["id"]
    assert fetched["external_id"] == "HR-1"
    # By default the external id is the key: the same row now finds her by it.
    again = await import_csv(client, org, "external_id,email\nHR-1,ada@example.com\n")
    assert statuses(again.json()) == ["unchanged"]
    assert again.json()["rows"][0]["employee_id"] == ada["id"]


async def test_manager_loops_in_a_file_are_rejected(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    boss = await create_employee(client, org, name="Boss", external_id="B")
    report = (
        await import_json(
            client,
            org,
            [
                {"external_id": "B", "manager": "C"},
                {"external_id": "C", "name": "C", "manager": "B"},
                {"external_id": "D", "name": "D", "manager": "D"},
            ],
        )
    ).json()
    # Row 2 closes the loop B -> C -> B; row 1 then names a manager that was rejected.
    assert statuses(report) == ["rejected", "rejected", "rejected"]
    codes = [[e["code"] for e in row["errors"]] for row in report["rows"]]
    assert codes == [["manager_rejected"], ["manager_cycle"], ["manager_cycle"]]
    assert boss["id"] in report["rows"][1]["errors"][0]["message"]
    employees = await all_employees(client, org)
    assert [e["external_id"] for e in employees] == ["B"]
    assert employees[0]["id"] == boss["id"]


async def test_csv_problems_of_the_whole_file_are_4xx_and_write_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    for text, status, code in (
        ("name,nickname\nAda,A\n", 422, "unknown_column"),
        ("name,Name\nAda,Ada\n", 422, "duplicate_column"),
        ("", 422, "empty_import"),
        ("name,email\n", 422, "empty_import"),
    ):
        response = await import_csv(client, org, text)
        assert response.status_code == status, (text, response.text)
        assert response.json()["error"]["code"] == code
    not_utf8 = await client.post(
        IMPORT, content=b"name\n\xff\xfe\n", headers={**bearer(org), "Content-Type": "text/csv"}
    )
    assert not_utf8.status_code == 400
    assert not_utf8.json()["error"]["code"] == "invalid_csv"
    assert await all_employees(client, org) == []


async def test_csv_rows_with_the_wrong_cell_count_are_rejected_alone(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    text = "\ufeffExternal_ID , Name\nE-1,Ada\n\nE-2,Bob,extra\nE-3\n"
    report = (await import_csv(client, org, text)).json()
    assert statuses(report) == ["created", "rejected", "rejected"]
    assert report["rows"][1]["errors"][0]["message"] == "row has 3 cells; the header has 2"
    assert [e["external_id"] for e in await all_employees(client, org)] == ["E-1"]


async def test_json_body_problems_are_4xx(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    for body, status in (
        ({"rows": []}, 422),
        ({"employees": [], "match_on": "name"}, 422),
        ({"employees": []}, 422),
    ):
        response = await client.post(IMPORT, json=body, headers=bearer(org))
        assert response.status_code == status, response.text
    broken = await client.post(
        IMPORT, content=b"{not json", headers={**bearer(org), "Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "invalid_json"
    xml = await client.post(
        IMPORT, content=b"<a/>", headers={**bearer(org), "Content-Type": "application/xml"}
    )
    assert xml.status_code == 415
    assert await all_employees(client, org) == []


async def test_too_many_rows_is_413_and_writes_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    response = await import_json(client, org, [{}] * (MAX_ROWS + 1))
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "too_many_rows"
    assert await all_employees(client, org) == []


async def test_csv_is_refused_on_other_routes(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    response = await client.post(
        "/api/v1/employees",
        content=b"name\nAda\n",
        headers={**bearer(org), "Content-Type": "text/csv"},
    )
    assert response.status_code == 415


async def test_imports_stay_in_their_environment(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    env = Environment.STAGING
    prod = await create_employee(client, org, external_id="E-1")
    report = (await import_json(client, org, [{"external_id": "E-1", "name": "Ada"}], env)).json()
    assert statuses(report) == ["created"]
    assert report["rows"][0]["employee_id"] != prod["id"]
    manager_elsewhere = (
        await import_json(
            client, org, [{"external_id": "E-2", "name": "B", "manager": prod["id"]}], env
        )
    ).json()
    assert [e["code"] for e in manager_elsewhere["rows"][0]["errors"]] == ["unknown_employee"]


async def test_concurrent_identical_imports_create_each_employee_once(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    responses = await asyncio.gather(*(import_csv(client, org, CSV) for _ in range(4)))
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    summaries = [r.json()["summary"] for r in responses]
    assert sum(s["created"] for s in summaries) == 3
    assert sum(s["rejected"] for s in summaries) == 0
    assert len(await all_employees(client, org)) == 3
    assert len(await events_of(client, org, "employee.activated")) == 3
