"""Redeeming rewards: points and stock debited, a voucher issued, both events raised; every
refusal a 409 or 422 that leaves stock, ledger and event log exactly as they were."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.ids import new_id
from plaudit.engagement.money import Money
from plaudit.engagement.vouchers import Voucher, issue_voucher
from plaudit.store.engagement_tables import vouchers
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.rewards_helpers import (
    balance,
    create_reward,
    env_id,
    events_of,
    grant,
    written,
)

REDEEM = "/api/v1/redemptions"


async def redeem(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    employee_id: str,
    reward_id: str,
    key: str | None = None,
) -> httpx.Response:
    headers = bearer(org) | ({"Idempotency-Key": key} if key else {})
    return await client.post(
        REDEEM, headers=headers, json={"employee_id": employee_id, "reward_id": reward_id}
    )


async def test_redeem_debits_points_and_stock_issues_a_voucher_and_raises_events(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    ada = await make_employee(
        container, env_id(org), name="Ada", email="ada@example.com", external_id="E-1"
    )
    await grant(client, org, ada.id, 100)
    card = await create_reward(client, org, point_cost=30, stock=3, voucher_valid_days=30)

    response = await redeem(client, org, ada.id, card["id"])
    assert response.status_code == 201, response.text
    redemption = response.json()
    voucher = redemption["voucher"]
    assert redemption["id"].startswith("rdm_")
    assert (redemption["employee_id"], redemption["reward_id"]) == (ada.id, card["id"])
    assert redemption["points_spent"] == 30
    assert voucher["id"].startswith("vch_")
    assert voucher["redemption_id"] == redemption["id"]
    assert voucher["value"] == {"amount": "25.00", "currency": "EUR"}
    issued = datetime.fromisoformat(redemption["created_at"])
    expires = datetime.fromisoformat(voucher["expires_at"])
    assert (expires.date() - issued.date()).days == 30
    assert (expires.hour, expires.minute, expires.second) == (23, 59, 59)

    assert await balance(client, org, ada.id) == 70
    stock = await client.get(f"/api/v1/rewards/{card['id']}", headers=bearer(org))
    assert stock.json()["stock"] == 2
    spend = await client.get(
        f"/api/v1/employees/{ada.id}/points/entries", headers=bearer(org), params={"kind": "spend"}
    )
    [entry] = spend.json()["data"]
    assert entry["id"] == redemption["point_entry_id"]
    assert (entry["amount"], entry["reason"], entry["balance_after"]) == (-30, "redemption", 70)
    assert entry["source"] == {"type": "redemption", "id": redemption["id"]}

    ref = {"id": ada.id, "external_id": "E-1", "email": "ada@example.com", "name": "Ada"}
    [redeemed] = await events_of(client, org, "reward.redeemed")
    assert redeemed["data"] == {
        "redemption_id": redemption["id"],
        "employee": ref,
        "reward": {
            "id": card["id"],
            "name": "Bookstore gift card",
            "value": {"amount": "25.00", "currency": "EUR"},
        },
        "points_spent": 30,
        "voucher_id": voucher["id"],
        "created_at": redeemed["data"]["created_at"],
    }
    [voucher_event] = await events_of(client, org, "voucher.issued")
    assert voucher_event["data"] == {
        "voucher_id": voucher["id"],
        "redemption_id": redemption["id"],
        "employee": ref,
        "code": voucher["code"],
        "value": {"amount": "25.00", "currency": "EUR"},
        "expires_at": voucher_event["data"]["expires_at"],
        "created_at": voucher_event["data"]["created_at"],
    }
    assert datetime.fromisoformat(voucher_event["data"]["expires_at"]) == expires

    fetched = await client.get(f"{REDEEM}/{redemption['id']}", headers=bearer(org))
    assert fetched.json() == redemption
    got_voucher = await client.get(f"/api/v1/vouchers/{voucher['id']}", headers=bearer(org))
    assert got_voucher.json() == voucher


async def test_unlimited_stock_and_vouchers_that_never_expire(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    bob = await make_employee(container, env_id(org))
    await grant(client, org, bob.id, 50)
    free = await create_reward(client, org, point_cost=10, stock=None, voucher_valid_days=None)
    for _ in range(2):
        response = await redeem(client, org, bob.id, free["id"])
        assert response.status_code == 201, response.text
        assert response.json()["voucher"]["expires_at"] is None
    after = await client.get(f"/api/v1/rewards/{free['id']}", headers=bearer(org))
    assert after.json()["stock"] is None
    [first, second] = await events_of(client, org, "voucher.issued")
    assert first["data"]["expires_at"] is None
    assert first["data"]["code"] != second["data"]["code"]


async def test_a_price_change_applies_to_the_next_redemption(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    cy = await make_employee(container, env_id(org))
    await grant(client, org, cy.id, 100)
    card = await create_reward(client, org, point_cost=30)
    await client.patch(
        f"/api/v1/rewards/{card['id']}",
        headers=bearer(org),
        json={"point_cost": 50, "value": {"amount": "40.00", "currency": "EUR"}},
    )
    response = await redeem(client, org, cy.id, card["id"])
    assert response.json()["points_spent"] == 50
    assert response.json()["voucher"]["value"]["amount"] == "40.00"
    assert await balance(client, org, cy.id) == 50


async def test_refusals_are_409_or_422_and_write_nothing(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    rich = await make_employee(container, env_id(org))
    poor = await make_employee(container, env_id(org))
    gone = await make_employee(container, env_id(org), status="inactive")
    await grant(client, org, rich.id, 500)
    await grant(client, org, poor.id, 29)
    card = await create_reward(client, org, point_cost=30, stock=5)
    empty = await create_reward(client, org, name="Sold out", point_cost=10, stock=0)
    retired = await create_reward(client, org, name="Old", point_cost=10, active=False)
    staging_reward = await client.post(
        "/api/v1/rewards",
        headers=bearer(org, Environment.STAGING),
        json={"name": "Staging", "point_cost": 1, "value": {"amount": "1", "currency": "EUR"}},
    )
    staging_employee = await make_employee(container, org.environment_ids[Environment.STAGING])

    cases: list[tuple[str, str, int, str, str]] = [
        (poor.id, card["id"], 409, "insufficient_points", poor.id),
        (rich.id, empty["id"], 409, "out_of_stock", empty["id"]),
        (rich.id, retired["id"], 409, "reward_inactive", retired["id"]),
        (gone.id, card["id"], 409, "employee_inactive", gone.id),
        ("usr_nobody", card["id"], 422, "unknown_employee", "usr_nobody"),
        (staging_employee.id, card["id"], 422, "unknown_employee", staging_employee.id),
        (rich.id, "rwd_nothing", 422, "unknown_reward", "rwd_nothing"),
        (rich.id, staging_reward.json()["id"], 422, "unknown_reward", "rwd_"),
    ]
    before = await written(container, org)
    for employee_id, reward_id, status, code, named in cases:
        response = await redeem(client, org, employee_id, reward_id)
        assert response.status_code == status, (code, response.text)
        error = response.json()["error"]
        assert error["code"] == code
        assert named in error["message"]
    assert await written(container, org) == before
    assert await balance(client, org, poor.id) == 29

    insufficient = await redeem(client, org, poor.id, card["id"])
    assert insufficient.json()["error"]["details"] == {
        "employee_id": poor.id,
        "balance": 29,
        "required": 30,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"employee_id": "usr_1"},
        {"reward_id": "rwd_1"},
        {"employee_id": "", "reward_id": "rwd_1"},
        {"employee_id": 5, "reward_id": "rwd_1"},
        {"employee_id": "usr_1", "reward_id": "rwd_1", "points": 3},
    ],
)
async def test_malformed_redemptions_are_422(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    body: dict[str, Any],
) -> None:
    before = await written(container, org)
    response = await client.post(REDEEM, headers=bearer(org), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert await written(container, org) == before


async def test_idempotency_key_returns_the_first_redemption(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    dee = await make_employee(container, env_id(org))
    await grant(client, org, dee.id, 100)
    card = await create_reward(client, org, point_cost=30, stock=10)
    other = await create_reward(client, org, name="Other", point_cost=10)

    first = await redeem(client, org, dee.id, card["id"], key="order-7")
    before = await written(container, org)
    again = await redeem(client, org, dee.id, card["id"], key="order-7")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert first.json()["idempotency_key"] == "order-7"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await written(container, org) == before
    assert await balance(client, org, dee.id) == 70

    reused = await redeem(client, org, dee.id, other["id"], key="order-7")
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert reused.json()["error"]["details"] == {"redemption_id": first.json()["id"]}

    bad = await redeem(client, org, dee.id, card["id"], key="has space")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_idempotency_key"
    assert await written(container, org) == before

    # Keys belong to one environment: staging may use the same one for its own redemption.
    staging = org.environment_ids[Environment.STAGING]
    elsewhere = await make_employee(container, staging)
    await client.post(
        f"/api/v1/employees/{elsewhere.id}/points",
        headers=bearer(org, Environment.STAGING),
        json={"kind": "earn", "points": 10},
    )
    staged = await client.post(
        "/api/v1/rewards",
        headers=bearer(org, Environment.STAGING),
        json={"name": "S", "point_cost": 10, "value": {"amount": "1", "currency": "EUR"}},
    )
    response = await client.post(
        REDEEM,
        headers=bearer(org, Environment.STAGING) | {"Idempotency-Key": "order-7"},
        json={"employee_id": elsewhere.id, "reward_id": staged.json()["id"]},
    )
    assert response.status_code == 201, response.text
    assert response.json()["id"] != first.json()["id"]


async def test_list_filters_and_pages_newest_first(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    eve = await make_employee(container, env_id(org))
    fay = await make_employee(container, env_id(org))
    for person in (eve, fay):
        await grant(client, org, person.id, 100)
    card = await create_reward(client, org, point_cost=10)
    mug = await create_reward(client, org, name="Mug", point_cost=10)
    made = [
        (await redeem(client, org, who.id, what["id"])).json()["id"]
        for who, what in ((eve, card), (eve, mug), (fay, card))
    ]

    everything = await client.get(REDEEM, headers=bearer(org))
    assert [r["id"] for r in everything.json()["data"]] == made[::-1]
    assert all(r["voucher"]["code"] for r in everything.json()["data"])
    by_eve = await client.get(REDEEM, headers=bearer(org), params={"employee_id": eve.id})
    assert [r["id"] for r in by_eve.json()["data"]] == [made[1], made[0]]
    of_card = await client.get(REDEEM, headers=bearer(org), params={"reward_id": card["id"]})
    assert [r["id"] for r in of_card.json()["data"]] == [made[2], made[0]]
    both = await client.get(
        REDEEM, headers=bearer(org), params={"employee_id": eve.id, "reward_id": card["id"]}
    )
    assert [r["id"] for r in both.json()["data"]] == [made[0]]

    page = await client.get(REDEEM, headers=bearer(org), params={"limit": 2})
    assert page.json()["has_more"] is True
    rest = await client.get(
        REDEEM, headers=bearer(org), params={"limit": 2, "cursor": page.json()["next_cursor"]}
    )
    assert [r["id"] for r in page.json()["data"] + rest.json()["data"]] == made[::-1]
    assert rest.json()["has_more"] is False

    for path, code in (
        (f"{REDEEM}/rdm_nothing", "redemption_not_found"),
        ("/api/v1/vouchers/vch_nothing", "voucher_not_found"),
    ):
        missing = await client.get(path, headers=bearer(org))
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == code
    # Another environment cannot read them.
    hidden = await client.get(f"{REDEEM}/{made[0]}", headers=bearer(org, Environment.STAGING))
    assert hidden.status_code == 404


async def test_a_clashing_voucher_code_is_drawn_again(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    gus = await make_employee(container, env_id(org))
    await grant(client, org, gus.id, 100)
    card = await create_reward(client, org, point_cost=10)
    taken = (await redeem(client, org, gus.id, card["id"])).json()
    codes = iter([taken["voucher"]["code"], "ZZZZ-ZZZZ-ZZZZ-" + new_id("vch")[-4:]])
    now = container.clock.now()

    def unit(conn: Connection) -> Voucher:
        return issue_voucher(
            conn,
            environment_id=env_id(org),
            redemption_id=taken["id"],
            employee_id=gus.id,
            value=Money("1.00", "EUR"),
            expires_at=None,
            now=now,
            generate=lambda: next(codes),
        )

    voucher = await container.db.write(unit)
    assert voucher.code.startswith("ZZZZ-ZZZZ-ZZZZ-")
    assert voucher.code != taken["voucher"]["code"]

    def rows(conn: Connection) -> int:
        return len(
            conn.execute(vouchers.select().where(vouchers.c.redemption_id == taken["id"])).all()
        )

    assert await container.db.read_with(rows) == 2

    codes = iter([taken["voucher"]["code"]] * 10)  # every draw clashes
    with pytest.raises(RuntimeError, match="no unique voucher code"):
        await container.db.write(unit)
    assert await container.db.read_with(rows) == 2


async def test_vouchers_are_listed_and_found_by_a_typed_code(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    hal = await make_employee(container, env_id(org))
    ivy = await make_employee(container, env_id(org))
    for person in (hal, ivy):
        await grant(client, org, person.id, 100)
    card = await create_reward(client, org, point_cost=10)
    made = [(await redeem(client, org, p.id, card["id"])).json() for p in (hal, ivy, hal)]
    ids = [r["voucher"]["id"] for r in made]

    everything = await client.get("/api/v1/vouchers", headers=bearer(org))
    assert [v["id"] for v in everything.json()["data"]] == ids[::-1]
    of_hal = await client.get(
        "/api/v1/vouchers", headers=bearer(org), params={"employee_id": hal.id, "limit": 1}
    )
    assert [v["id"] for v in of_hal.json()["data"]] == [ids[2]]
    rest = await client.get(
        "/api/v1/vouchers",
        headers=bearer(org),
        params={"employee_id": hal.id, "cursor": of_hal.json()["next_cursor"]},
    )
    assert [v["id"] for v in rest.json()["data"]] == [ids[0]]

    code = made[1]["voucher"]["code"]
    typed = code.lower().replace("-", " ").replace("1", "l").replace("0", "o")
    found = await client.get("/api/v1/vouchers", headers=bearer(org), params={"code": typed})
    assert [v["id"] for v in found.json()["data"]] == [ids[1]]
    elsewhere = await client.get(
        "/api/v1/vouchers", headers=bearer(org, Environment.STAGING), params={"code": code}
    )
    assert elsewhere.json()["data"] == []
