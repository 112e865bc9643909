"""Points over the API: credits with their event, debits that never overdraw, entries and
balance, and every bad request refused with nothing written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.store.engagement_tables import point_accounts
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.rewards_helpers import (
    balance,
    entries_sum,
    env_id,
    events_of,
    grant,
    written,
)


def points_url(employee_id: str) -> str:
    return f"/api/v1/employees/{employee_id}/points"


async def test_earn_credits_and_raises_points_earned(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    ada = await make_employee(
        container, env_id(org), name="Ada", email="ada@example.com", external_id="E-1"
    )
    response = await client.post(
        points_url(ada.id),
        headers=bearer(org),
        json={
            "kind": "earn",
            "points": 120,
            "reason": "payout",
            "note": "Q3 bonus",
            "source": {"type": "crm_deal", "id": "D-77"},
        },
    )
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["id"].startswith("pts_")
    assert (entry["kind"], entry["amount"], entry["balance_after"]) == ("earn", 120, 120)
    assert (entry["reason"], entry["note"]) == ("payout", "Q3 bonus")
    assert entry["source"] == {"type": "crm_deal", "id": "D-77"}

    [event] = await events_of(client, org, "points.earned")
    assert event["data"] == {
        "entry_id": entry["id"],
        "employee": {"id": ada.id, "external_id": "E-1", "email": "ada@example.com", "name": "Ada"},
        "points": 120,
        "reason": "payout",
        "source": {"type": "crm_deal", "id": "D-77"},
        "balance_after": 120,
        "created_at": event["data"]["created_at"],
    }
    assert await balance(client, org, ada.id) == 120


async def test_adjust_both_ways_and_expire(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    bob = await make_employee(container, env_id(org), name="Bob")
    await grant(client, org, bob.id, 100)

    up = await client.post(
        points_url(bob.id), headers=bearer(org), json={"kind": "adjust", "points": 15}
    )
    assert up.status_code == 201, up.text
    assert (up.json()["amount"], up.json()["reason"], up.json()["balance_after"]) == (
        15,
        "adjustment",
        115,
    )
    down = await client.post(
        points_url(bob.id), headers=bearer(org), json={"kind": "adjust", "points": -40}
    )
    assert down.status_code == 201, down.text
    assert (down.json()["amount"], down.json()["balance_after"]) == (-40, 75)
    gone = await client.post(
        points_url(bob.id), headers=bearer(org), json={"kind": "expire", "points": 25}
    )
    assert gone.status_code == 201, gone.text
    assert gone.json()["kind"] == "expire"
    assert (gone.json()["amount"], gone.json()["reason"], gone.json()["balance_after"]) == (
        -25,
        "expiry",
        50,
    )

    # Only the credits raise points.earned; the positive adjustment says so.
    earned = await events_of(client, org, "points.earned")
    assert sorted((e["data"]["points"], e["data"]["reason"]) for e in earned) == [
        (15, "adjustment"),
        (100, "other"),
    ]
    assert await balance(client, org, bob.id) == 50
    assert await entries_sum(container, bob.id) == 50


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "expire", "points": 51},
        {"kind": "adjust", "points": -51},
    ],
)
async def test_debit_beyond_the_balance_is_409_and_writes_nothing(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    body: dict[str, Any],
) -> None:
    cy = await make_employee(container, env_id(org))
    await grant(client, org, cy.id, 50)
    before = await written(container, org)
    response = await client.post(points_url(cy.id), headers=bearer(org), json=body)
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "insufficient_points"
    assert error["details"] == {"employee_id": cy.id, "balance": 50, "required": 51}
    assert await written(container, org) == before
    assert await balance(client, org, cy.id) == 50


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        ({"kind": "earn", "points": 0}, 422, "invalid_points", "points"),
        ({"kind": "earn", "points": -5}, 422, "invalid_points", "points"),
        ({"kind": "earn", "points": 10_000_001}, 422, "invalid_points", "points"),
        ({"kind": "expire", "points": -5}, 422, "invalid_points", "points"),
        ({"kind": "expire", "points": 0}, 422, "invalid_points", "points"),
        ({"kind": "adjust", "points": 0}, 422, "invalid_points", "points"),
        ({"kind": "earn", "points": 1.5}, 422, "validation_error", "points"),
        ({"kind": "earn", "points": "5"}, 422, "validation_error", "points"),
        ({"kind": "earn", "points": True}, 422, "validation_error", "points"),
        ({"kind": "spend", "points": 5}, 422, "validation_error", "kind"),
        ({"points": 5}, 422, "validation_error", "kind"),
        ({"kind": "earn"}, 422, "validation_error", "points"),
        ({"kind": "earn", "points": 5, "reason": "lottery"}, 422, "invalid_reason", "reason"),
        ({"kind": "adjust", "points": 5, "reason": "payout"}, 422, "reason_not_allowed", "reason"),
        ({"kind": "earn", "points": 5, "bonus": 1}, 422, "validation_error", "bonus"),
        ({"kind": "earn", "points": 5, "note": "x" * 501}, 422, "validation_error", "note"),
        (
            {"kind": "earn", "points": 5, "source": {"type": "Bad Type", "id": "1"}},
            422,
            "validation_error",
            "source",
        ),
    ],
)
async def test_bad_points_requests_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    body: dict[str, Any],
    status: int,
    code: str,
    needle: str,
) -> None:
    dee = await make_employee(container, env_id(org))
    await grant(client, org, dee.id, 10)
    before = await written(container, org)
    response = await client.post(points_url(dee.id), headers=bearer(org), json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert needle in response.text
    assert await written(container, org) == before


async def test_unknown_and_deactivated_employees_are_refused(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    gone = await make_employee(container, env_id(org), status="inactive")
    staging_only = await make_employee(container, org.environment_ids[Environment.STAGING])
    before = await written(container, org)

    unknown = await client.post(
        points_url("usr_nobody"), headers=bearer(org), json={"kind": "earn", "points": 5}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "employee_not_found"
    assert "usr_nobody" in unknown.json()["error"]["message"]

    # Another environment's employee does not exist here.
    elsewhere = await client.post(
        points_url(staging_only.id), headers=bearer(org), json={"kind": "earn", "points": 5}
    )
    assert elsewhere.status_code == 404

    inactive = await client.post(
        points_url(gone.id), headers=bearer(org), json={"kind": "earn", "points": 5}
    )
    assert inactive.status_code == 409
    assert inactive.json()["error"]["code"] == "employee_inactive"
    assert gone.id in inactive.json()["error"]["message"]
    assert await written(container, org) == before

    # Reading a deactivated employee's points is fine; an unknown one is 404.
    readable = await client.get(f"{points_url(gone.id)}/balance", headers=bearer(org))
    assert readable.json() == {
        "employee_id": gone.id,
        "balance": 0,
        "entries_sum": None,
        "consistent": None,
    }
    for path in ("balance", "entries"):
        missing = await client.get(f"{points_url('usr_nobody')}/{path}", headers=bearer(org))
        assert missing.status_code == 404


async def test_entries_newest_first_with_kind_filter_and_cursor(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    eve = await make_employee(container, env_id(org))
    for points in (10, 20, 30):
        await grant(client, org, eve.id, points)
    await client.post(points_url(eve.id), headers=bearer(org), json={"kind": "expire", "points": 5})

    everything = await client.get(f"{points_url(eve.id)}/entries", headers=bearer(org))
    assert [e["amount"] for e in everything.json()["data"]] == [-5, 30, 20, 10]
    assert [e["balance_after"] for e in everything.json()["data"]] == [55, 60, 30, 10]

    first = await client.get(
        f"{points_url(eve.id)}/entries", headers=bearer(org), params={"kind": "earn", "limit": 2}
    )
    assert [e["amount"] for e in first.json()["data"]] == [30, 20]
    assert first.json()["has_more"] is True
    second = await client.get(
        f"{points_url(eve.id)}/entries",
        headers=bearer(org),
        params={"kind": "earn", "limit": 2, "cursor": first.json()["next_cursor"]},
    )
    assert [e["amount"] for e in second.json()["data"]] == [10]
    assert second.json()["has_more"] is False

    bad_kind = await client.get(
        f"{points_url(eve.id)}/entries", headers=bearer(org), params={"kind": "gift"}
    )
    assert bad_kind.status_code == 422
    bad_cursor = await client.get(
        f"{points_url(eve.id)}/entries", headers=bearer(org), params={"cursor": "nope"}
    )
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["error"]["code"] == "invalid_cursor"


async def test_entries_cannot_be_changed_or_deleted(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    fay = await make_employee(container, env_id(org))
    entry = await grant(client, org, fay.id, 10)
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.request(
            method, f"{points_url(fay.id)}/entries/{entry['id']}", headers=bearer(org), json={}
        )
        assert response.status_code in (404, 405), (method, response.status_code)
    assert await balance(client, org, fay.id) == 10


async def test_balance_verification_and_the_environment_audit(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    gus = await make_employee(container, env_id(org))
    hal = await make_employee(container, env_id(org))
    await grant(client, org, gus.id, 40)
    await grant(client, org, hal.id, 7)

    plain = await client.get(f"{points_url(gus.id)}/balance", headers=bearer(org))
    assert plain.json()["balance"] == 40
    assert plain.json()["entries_sum"] is None
    verified = await client.get(
        f"{points_url(gus.id)}/balance", headers=bearer(org), params={"verify": "true"}
    )
    assert verified.json() == {
        "employee_id": gus.id,
        "balance": 40,
        "entries_sum": 40,
        "consistent": True,
    }
    audit = await client.get("/api/v1/points/audit", headers=bearer(org))
    assert audit.json() == {"accounts_checked": 2, "consistent": True, "mismatches": []}


async def test_the_audit_notices_a_drifted_account(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    # Guards the audit against checking nothing: a balance moved behind the ledger's back.
    ivy = await make_employee(container, env_id(org))
    await grant(client, org, ivy.id, 40)
    await container.db.write(
        lambda conn: conn.execute(
            update(point_accounts).where(point_accounts.c.employee_id == ivy.id).values(balance=41)
        )
    )
    audit = await client.get("/api/v1/points/audit", headers=bearer(org))
    assert audit.json()["consistent"] is False
    assert audit.json()["mismatches"] == [
        {"employee_id": ivy.id, "balance": 41, "entries_sum": 40, "consistent": False}
    ]
    verified = await client.get(
        f"{points_url(ivy.id)}/balance", headers=bearer(org), params={"verify": "true"}
    )
    assert verified.json()["consistent"] is False
