"""Odd ids and strings on the points, rewards and redemption routes: a precise 4xx (or an
empty list), never a 500, on both databases (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.rewards_helpers import env_id, reward_body, written


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/v1/employees/usr_%00/points/balance", {}, 404, "employee_not_found"),
        ("/api/v1/employees/usr_%00/points/entries", {}, 404, "employee_not_found"),
        (f"/api/v1/employees/{'x' * 5000}/points/balance", {}, 404, "employee_not_found"),
        ("/api/v1/rewards/rwd_%00", {}, 404, "reward_not_found"),
        ("/api/v1/rewards/%F0%9F%8E%89", {}, 404, "reward_not_found"),
        ("/api/v1/redemptions/rdm_%00", {}, 404, "redemption_not_found"),
        ("/api/v1/vouchers/vch_%00", {}, 404, "voucher_not_found"),
        ("/api/v1/redemptions", {"cursor": "\u0000"}, 400, "invalid_cursor"),
        ("/api/v1/rewards", {"active": "maybe"}, 422, "validation_error"),
        ("/api/v1/redemptions", {"limit": "0"}, 422, "validation_error"),
        ("/api/v1/redemptions", {"employee_id": "x" * 41}, 422, "validation_error"),
    ],
)
async def test_odd_paths_and_queries_are_client_errors(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = await client.get(path, params=params, headers=bearer(org))
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/redemptions", {"employee_id": "usr_\u0000"}),
        ("/api/v1/redemptions", {"reward_id": "rwd_\u0000"}),
        ("/api/v1/vouchers", {"employee_id": "usr_\u0000"}),
        ("/api/v1/vouchers", {"code": "AB\u0000C"}),
    ],
)
async def test_filters_no_row_can_match_give_an_empty_list(
    client: httpx.AsyncClient, org: CreatedOrganization, path: str, params: dict[str, str]
) -> None:
    response = await client.get(path, params=params, headers=bearer(org))
    assert response.status_code == 200, response.text
    assert response.json() == {"data": [], "has_more": False, "next_cursor": None}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/rewards", reward_body(name="Gift\u0000card")),
        ("/api/v1/rewards", reward_body(description="\u0000")),
        ("/api/v1/rewards", reward_body(value={"amount": "1\u0000", "currency": "EUR"})),
        ("/api/v1/redemptions", {"employee_id": "usr_\u0000", "reward_id": "rwd_1"}),
        ("/api/v1/redemptions", {"employee_id": "usr_1", "reward_id": "rwd_\u0000"}),
        ("/api/v1/employees/{employee}/points", {"kind": "earn", "points": 1, "note": "\u0000"}),
        (
            "/api/v1/employees/{employee}/points",
            {"kind": "earn", "points": 1, "source": {"type": "deal", "id": "\u0000"}},
        ),
    ],
)
async def test_nul_in_a_body_is_422_and_writes_nothing(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    path: str,
    body: dict[str, Any],
) -> None:
    employee = await make_employee(container, env_id(org))
    before = await written(container, org)
    response = await client.post(path.format(employee=employee.id), headers=bearer(org), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in ("validation_error", "invalid_amount")
    assert await written(container, org) == before


async def test_nul_in_a_patch_is_422(client: httpx.AsyncClient, org: CreatedOrganization) -> None:
    created = await client.post("/api/v1/rewards", headers=bearer(org), json=reward_body())
    response = await client.patch(
        f"/api/v1/rewards/{created.json()['id']}",
        headers=bearer(org),
        json={"name": "a\u0000b"},
    )
    assert response.status_code == 422, response.text
    lone = await client.patch(
        f"/api/v1/rewards/{created.json()['id']}",
        headers={**bearer(org), "Content-Type": "application/json"},
        content=b'{"name": "\\ud800"}',
    )
    assert 400 <= lone.status_code < 500, lone.text
    unchanged = await client.get(f"/api/v1/rewards/{created.json()['id']}", headers=bearer(org))
    assert unchanged.json() == created.json()
