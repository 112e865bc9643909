"""Connect reads: users, groups, recognitions, redemptions and points, scoped to the key."""

from __future__ import annotations

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment, Scope
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.connect.seed import connect_headers, seed

BASE = "/connect/v1"


async def test_users_list_filters_pagination_and_one(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    s = await seed(client, org)
    headers = await connect_headers(container, org)

    everyone = await client.get(f"{BASE}/users", headers=headers)
    assert everyone.status_code == 200, everyone.text
    body = everyone.json()
    assert [u["id"] for u in body["data"]] == [s.ada, s.bob, s.cyd]
    assert body["has_more"] is False
    assert body["next_cursor"] is None
    ada = body["data"][0]
    # PII: the birth year never leaves; the month and day do.
    assert "birth_date" not in ada
    assert ada["birthday"] == "12-10"
    assert ada["hire_date"] == "2020-01-06"
    assert body["data"][1]["birthday"] is None

    sales = await client.get(f"{BASE}/users", headers=headers, params={"department": "Sales"})
    assert [u["id"] for u in sales.json()["data"]] == [s.bob, s.cyd]
    active_sales = await client.get(
        f"{BASE}/users", headers=headers, params={"department": "Sales", "status": "active"}
    )
    assert [u["id"] for u in active_sales.json()["data"]] == [s.bob]
    members = await client.get(f"{BASE}/users", headers=headers, params={"group_id": s.group_id})
    assert [u["id"] for u in members.json()["data"]] == [s.ada]

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(f"{BASE}/users", headers=headers, params=params)).json()
        seen += [u["id"] for u in page["data"]]
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if cursor is None:
            break
    assert seen == [s.ada, s.bob, s.cyd]

    one = await client.get(f"{BASE}/users/{s.ada}", headers=headers)
    assert one.status_code == 200
    assert one.json() == ada


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"status": "retired"}, {"cursor": "not-a-cursor"}],
)
async def test_users_list_refuses_bad_parameters(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    params: dict[str, str | int],
) -> None:
    headers = await connect_headers(container, org)
    response = await client.get(f"{BASE}/users", headers=headers, params=params)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("validation_error", "invalid_cursor")


async def test_groups_recognitions_redemptions_and_points(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    s = await seed(client, org)
    headers = await connect_headers(container, org)

    groups = (await client.get(f"{BASE}/groups", headers=headers)).json()
    assert [(g["id"], g["name"], g["member_count"]) for g in groups["data"]] == [
        (s.group_id, "Analytical", 1)
    ]
    assert (await client.get(f"{BASE}/groups", headers=headers, params={"kind": "custom"})).json()[
        "data"
    ] == []
    group = await client.get(f"{BASE}/groups/{s.group_id}", headers=headers)
    assert group.json() == groups["data"][0]

    recognitions = (await client.get(f"{BASE}/recognitions", headers=headers)).json()["data"]
    assert [r["id"] for r in recognitions] == [s.recognition_id]
    assert recognitions[0]["receiver_ids"] == [s.ada]
    assert recognitions[0]["total_points"] == 20
    by_giver = await client.get(f"{BASE}/recognitions", headers=headers, params={"giver_id": s.ada})
    assert by_giver.json()["data"] == []
    one = await client.get(f"{BASE}/recognitions/{s.recognition_id}", headers=headers)
    assert one.json() == recognitions[0]

    redemptions = (
        await client.get(f"{BASE}/redemptions", headers=headers, params={"employee_id": s.ada})
    ).json()["data"]
    assert [r["id"] for r in redemptions] == [s.redemption_id]
    assert redemptions[0]["voucher"]["code"] == s.voucher_code
    assert redemptions[0]["voucher"]["value"] == {"amount": "25.00", "currency": "EUR"}
    assert "idempotency_key" not in redemptions[0]
    none_for_bob = await client.get(
        f"{BASE}/redemptions", headers=headers, params={"employee_id": s.bob}
    )
    assert none_for_bob.json()["data"] == []
    one_redemption = await client.get(f"{BASE}/redemptions/{s.redemption_id}", headers=headers)
    assert one_redemption.json() == redemptions[0]

    balance = await client.get(f"{BASE}/users/{s.ada}/points", headers=headers)
    assert balance.json() == {"employee_id": s.ada, "balance": 20 + 100 - 30}
    ledger = (await client.get(f"{BASE}/users/{s.ada}/points/ledger", headers=headers)).json()
    assert [(e["kind"], e["amount"]) for e in ledger["data"]] == [
        ("spend", -30),
        ("earn", 100),
        ("earn", 20),
    ]
    assert ledger["data"][0]["balance_after"] == 90
    earns = await client.get(
        f"{BASE}/users/{s.ada}/points/ledger", headers=headers, params={"kind": "earn", "limit": 1}
    )
    assert [e["amount"] for e in earns.json()["data"]] == [100]
    assert earns.json()["has_more"] is True


async def test_another_environments_or_organizations_ids_are_404(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    s = await seed(client, org)
    other_org = await container.tenancy.create_organization("Other Org")
    for headers in (
        await connect_headers(container, org, Environment.STAGING),
        await connect_headers(container, other_org),
    ):
        for path in (
            f"/users/{s.ada}",
            f"/users/{s.ada}/points",
            f"/users/{s.ada}/points/ledger",
            f"/groups/{s.group_id}",
            f"/recognitions/{s.recognition_id}",
            f"/redemptions/{s.redemption_id}",
        ):
            response = await client.get(f"{BASE}{path}", headers=headers)
            assert response.status_code == 404, (path, response.text)
            assert response.json()["error"]["code"].endswith("not_found")
            assert s.voucher_code not in response.text
        for path in ("/users", "/groups", "/recognitions", "/redemptions"):
            listed = await client.get(f"{BASE}{path}", headers=headers)
            assert listed.json()["data"] == [], path
        filtered = await client.get(
            f"{BASE}/redemptions", headers=headers, params={"employee_id": s.ada}
        )
        assert filtered.json()["data"] == []


async def test_scopes_connect_read_or_admin_only(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    writer = await connect_headers(container, org, scopes=(Scope.EVENTS_WRITE,))
    refused = await client.get(f"{BASE}/users", headers=writer)
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["required"] == "connect:read"
    assert (await client.get(f"{BASE}/users", headers=bearer(org))).status_code == 200  # admin
    missing = await client.get(f"{BASE}/users")
    assert missing.status_code == 401
    wrong = await client.get(f"{BASE}/users", headers={"Authorization": "Bearer pk_live_nope"})
    assert wrong.status_code == 401
    # A connect:read key reads Connect only; the admin API stays closed to it.
    reader = await connect_headers(container, org)
    assert (await client.get("/api/v1/employees", headers=reader)).status_code == 403


async def test_a_revoked_key_is_refused_on_its_next_read(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    key = await container.tenancy.create_key(
        org.id, Environment.PRODUCTION, "app", (Scope.CONNECT_READ,)
    )
    headers = {"Authorization": f"Bearer {key.secret}"}
    assert (await client.get(f"{BASE}/users", headers=headers)).status_code == 200
    await container.tenancy.revoke_key(key.info.id)
    refused = await client.get(f"{BASE}/users", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "revoked_api_key"
    assert "RateLimit-Limit" not in refused.headers
    # Who is asking comes before what is asked: no key and a bad parameter is a 401.
    anonymous = await client.get(f"{BASE}/users", params={"limit": "0"})
    assert anonymous.status_code == 401


async def test_connect_is_read_only(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    headers = await connect_headers(container, org)
    response = await client.post(f"{BASE}/users", headers=headers, json={"name": "X"})
    assert response.status_code == 405
    listed = await client.get("/api/v1/employees", headers=bearer(org))
    assert listed.json()["data"] == []  # nothing was written
