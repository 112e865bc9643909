"""The rewards catalog over the API: create, list, read, change, restock and retire."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.rewards_helpers import create_reward, reward_body, written


async def test_create_get_and_list_with_active_filter(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    card = await create_reward(client, org, stock=5)
    assert card["id"].startswith("rwd_")
    assert {k: v for k, v in card.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "Bookstore gift card",
        "description": "Any bookstore in the chain",
        "point_cost": 30,
        "value": {"amount": "25.00", "currency": "EUR"},
        "stock": 5,
        "voucher_valid_days": 365,
        "active": True,
    }
    mug = await create_reward(
        client, org, name="Mug", value={"amount": "0", "currency": "USD"}, active=False
    )
    fetched = await client.get(f"/api/v1/rewards/{card['id']}", headers=bearer(org))
    assert fetched.json() == card

    everything = await client.get("/api/v1/rewards", headers=bearer(org))
    assert [r["id"] for r in everything.json()["data"]] == [card["id"], mug["id"]]
    active = await client.get("/api/v1/rewards", headers=bearer(org), params={"active": "true"})
    assert [r["id"] for r in active.json()["data"]] == [card["id"]]
    retired = await client.get("/api/v1/rewards", headers=bearer(org), params={"active": "false"})
    assert [r["id"] for r in retired.json()["data"]] == [mug["id"]]

    page = await client.get("/api/v1/rewards", headers=bearer(org), params={"limit": 1})
    assert page.json()["has_more"] is True
    rest = await client.get(
        "/api/v1/rewards",
        headers=bearer(org),
        params={"limit": 1, "cursor": page.json()["next_cursor"]},
    )
    assert [r["id"] for r in rest.json()["data"]] == [mug["id"]]

    # Staging shares nothing with production.
    staging = await client.get("/api/v1/rewards", headers=bearer(org, Environment.STAGING))
    assert staging.json()["data"] == []
    hidden = await client.get(
        f"/api/v1/rewards/{card['id']}", headers=bearer(org, Environment.STAGING)
    )
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "reward_not_found"


async def test_patch_changes_price_and_restocks(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    card = await create_reward(client, org, stock=2)
    url = f"/api/v1/rewards/{card['id']}"
    priced = await client.patch(
        url,
        headers=bearer(org),
        json={"point_cost": 45, "value": {"amount": "30.00", "currency": "GBP"}},
    )
    assert priced.status_code == 200, priced.text
    assert priced.json()["point_cost"] == 45
    assert priced.json()["value"] == {"amount": "30.00", "currency": "GBP"}
    assert priced.json()["stock"] == 2  # untouched
    assert priced.json()["name"] == card["name"]

    restocked = await client.patch(url, headers=bearer(org), json={"add_stock": 8})
    assert restocked.json()["stock"] == 10
    unlimited = await client.patch(
        url, headers=bearer(org), json={"stock": None, "voucher_valid_days": None}
    )
    assert (unlimited.json()["stock"], unlimited.json()["voucher_valid_days"]) == (None, None)
    cannot_add = await client.patch(url, headers=bearer(org), json={"add_stock": 1})
    assert cannot_add.status_code == 409
    assert cannot_add.json()["error"]["code"] == "unlimited_stock"
    counted = await client.patch(url, headers=bearer(org), json={"stock": 0})
    assert counted.json()["stock"] == 0


async def test_retire_then_reactivate(client: httpx.AsyncClient, org: CreatedOrganization) -> None:
    card = await create_reward(client, org)
    retired = await client.post(f"/api/v1/rewards/{card['id']}/retire", headers=bearer(org))
    assert retired.status_code == 200, retired.text
    assert retired.json()["active"] is False
    back = await client.patch(
        f"/api/v1/rewards/{card['id']}", headers=bearer(org), json={"active": True}
    )
    assert back.json()["active"] is True
    missing = await client.post("/api/v1/rewards/rwd_nothing/retire", headers=bearer(org))
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("overrides", "code", "needle"),
    [
        ({"point_cost": 0}, "validation_error", "point_cost"),
        ({"point_cost": -3}, "validation_error", "point_cost"),
        ({"point_cost": 2.5}, "validation_error", "point_cost"),
        ({"name": ""}, "validation_error", "name"),
        ({"name": "   "}, "invalid_reward", "name"),
        ({"stock": -1}, "invalid_reward", "stock"),
        ({"voucher_valid_days": 0}, "invalid_reward", "voucher_valid_days"),
        ({"value": {"amount": "-1.00", "currency": "EUR"}}, "invalid_amount", "value.amount"),
        ({"value": {"amount": "1e3", "currency": "EUR"}}, "invalid_amount", "value.amount"),
        ({"value": {"amount": "", "currency": "EUR"}}, "invalid_amount", "value.amount"),
        ({"value": {"amount": "NaN", "currency": "EUR"}}, "invalid_amount", "value.amount"),
        ({"value": {"amount": 25.0, "currency": "EUR"}}, "validation_error", "amount"),
        ({"value": {"amount": "25.00", "currency": "eur"}}, "invalid_currency", "value.currency"),
        ({"value": {"amount": "25.00", "currency": "EURO"}}, "invalid_currency", "value.currency"),
        ({"value": {"amount": "25.00"}}, "validation_error", "currency"),
        ({"colour": "red"}, "validation_error", "colour"),
    ],
)
async def test_bad_rewards_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    overrides: dict[str, Any],
    code: str,
    needle: str,
) -> None:
    before = await written(container, org)
    response = await client.post(
        "/api/v1/rewards", headers=bearer(org), json=reward_body(**overrides)
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code, response.text
    assert needle in response.text
    assert await written(container, org) == before


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"point_cost": 0}, 422, "validation_error"),
        ({"point_cost": None}, 422, "null_not_allowed"),
        ({"name": None}, 422, "null_not_allowed"),
        ({"active": None}, 422, "null_not_allowed"),
        ({"stock": -2}, 422, "invalid_reward"),
        ({"stock": 3, "add_stock": 1}, 422, "conflicting_fields"),
        ({"add_stock": 0}, 422, "invalid_stock"),
        ({"add_stock": 1_000_000_000}, 422, "invalid_stock"),
        ({"value": {"amount": "1,00", "currency": "EUR"}}, 422, "invalid_amount"),
        ({"id": "rwd_other"}, 422, "validation_error"),
    ],
)
async def test_bad_patches_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    patch: dict[str, Any],
    status: int,
    code: str,
) -> None:
    card = await create_reward(client, org, stock=4)
    before = await written(container, org)
    response = await client.patch(f"/api/v1/rewards/{card['id']}", headers=bearer(org), json=patch)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text
    assert await written(container, org) == before
    unknown = await client.patch("/api/v1/rewards/rwd_nothing", headers=bearer(org), json={})
    assert unknown.status_code == 404
