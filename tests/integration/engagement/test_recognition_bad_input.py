"""Every refused award answers a 4xx naming the problem and writes nothing at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.recognition_support import (
    employees,
    env_of,
    events_of,
    written,
)

RECOGNITIONS = "/api/v1/recognitions"


@dataclass(frozen=True)
class Cast:
    giver: str
    receiver: str
    other: str
    inactive: str
    badge: str
    retired_badge: str

    def body(self, **changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "giver_id": self.giver,
            "receiver_ids": [self.receiver, self.other],
            "message": "Thanks!",
            "badge_id": self.badge,
            "points": 10,
            "company_value": "Ownership",
        }
        return {key: value for key, value in {**base, **changes}.items() if value is not ...}


@pytest.fixture
async def cast(client: httpx.AsyncClient, container: Container, org: CreatedOrganization) -> Cast:
    giver, receiver, other = await employees(container, org, "Alice", "Bob", "Carmen")
    inactive = await make_employee(container, env_of(org), name="Gone", status="inactive")
    badges = []
    for name, active in (("Hero", True), ("Retired", False)):
        made = await client.post(
            "/api/v1/badges", json={"name": name, "active": active}, headers=bearer(org)
        )
        badges.append(made.json()["id"])
    return Cast(giver.id, receiver.id, other.id, inactive.id, badges[0], badges[1])


Case = tuple[Callable[[Cast], dict[str, Any]], int, str, Callable[[Cast], str]]

CASES: dict[str, Case] = {
    "unknown giver": (
        lambda c: c.body(giver_id="usr_nobody"),
        422,
        "unknown_employee",
        lambda c: "usr_nobody",
    ),
    "unknown receiver": (
        lambda c: c.body(receiver_ids=[c.receiver, "usr_nobody"]),
        422,
        "unknown_employee",
        lambda c: "usr_nobody",
    ),
    "deactivated giver": (
        lambda c: c.body(giver_id=c.inactive),
        409,
        "employee_inactive",
        lambda c: c.inactive,
    ),
    "deactivated receiver": (
        lambda c: c.body(receiver_ids=[c.inactive, c.receiver]),
        409,
        "employee_inactive",
        lambda c: c.inactive,
    ),
    "self recognition": (
        lambda c: c.body(receiver_ids=[c.receiver, c.giver]),
        422,
        "self_recognition",
        lambda c: c.giver,
    ),
    "duplicate receiver": (
        lambda c: c.body(receiver_ids=[c.receiver, c.other, c.receiver]),
        422,
        "duplicate_employee",
        lambda c: c.receiver,
    ),
    "no receivers": (lambda c: c.body(receiver_ids=[]), 422, "no_receivers", lambda c: "receiver"),
    "zero points": (lambda c: c.body(points=0), 422, "invalid_points", lambda c: "points"),
    "negative points": (lambda c: c.body(points=-5), 422, "invalid_points", lambda c: "points"),
    "points as a string": (
        lambda c: c.body(points="10"),
        422,
        "validation_error",
        lambda c: "points",
    ),
    "fractional points": (
        lambda c: c.body(points=2.5),
        422,
        "validation_error",
        lambda c: "points",
    ),
    "unknown badge": (
        lambda c: c.body(badge_id="bdg_nothing"),
        422,
        "unknown_badge",
        lambda c: "bdg_nothing",
    ),
    "retired badge": (
        lambda c: c.body(badge_id=c.retired_badge),
        409,
        "badge_inactive",
        lambda c: c.retired_badge,
    ),
    "blank message": (lambda c: c.body(message="  "), 422, "empty_text", lambda c: "message"),
    "missing message": (
        lambda c: c.body(message=...),
        422,
        "validation_error",
        lambda c: "message",
    ),
    "message with NUL": (
        lambda c: c.body(message="a\u0000b"),
        422,
        "invalid_text",
        lambda c: "message",
    ),
    "blank company value": (
        lambda c: c.body(company_value=""),
        422,
        "empty_text",
        lambda c: "company_value",
    ),
    "malformed id": (
        lambda c: c.body(giver_id="usr_\u0000"),
        422,
        "validation_error",
        lambda c: "giver_id",
    ),
    "unknown field": (
        lambda c: c.body(points_each=3),
        422,
        "validation_error",
        lambda c: "points_each",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
async def test_refused_award_names_the_problem_and_writes_nothing(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    cast: Cast,
    case: str,
) -> None:
    build, status, code, named = CASES[case]
    before = await written(container, org)

    response = await client.post(RECOGNITIONS, json=build(cast), headers=bearer(org))

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert named(cast) in error["message"], error
    assert await written(container, org) == before
    assert await events_of(client, org, "recognition.awarded") == []

    # The control: the same cast with the base body is accepted.
    accepted = await client.post(RECOGNITIONS, json=cast.body(), headers=bearer(org))
    assert accepted.status_code == 201, accepted.text


async def test_budget_exceeded_is_409_with_the_figures_and_writes_nothing(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization, cast: Cast
) -> None:
    settings = await client.patch(
        "/api/v1/engagement-settings", json={"monthly_giving_budget": 50}, headers=bearer(org)
    )
    assert settings.status_code == 200
    spent = await client.post(RECOGNITIONS, json=cast.body(points=15), headers=bearer(org))
    assert spent.status_code == 201, spent.text  # 30 of 50 given
    before = await written(container, org)

    refused = await client.post(RECOGNITIONS, json=cast.body(points=11), headers=bearer(org))

    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "giving_budget_exceeded"
    assert cast.giver in error["message"]
    assert error["details"]["budget"] == 50
    assert error["details"]["given"] == 30
    assert error["details"]["remaining"] == 20
    assert error["details"]["requested"] == 22
    assert await written(container, org) == before

    # Exactly what is left still fits.
    fits = await client.post(RECOGNITIONS, json=cast.body(points=10), headers=bearer(org))
    assert fits.status_code == 201, fits.text
    budget = await client.get(f"/api/v1/employees/{cast.giver}/giving-budget", headers=bearer(org))
    assert budget.json()["given"] == 50
    assert budget.json()["remaining"] == 0

    # Lowering the budget below what was given leaves nothing, not a negative remainder.
    await client.patch(
        "/api/v1/engagement-settings", json={"monthly_giving_budget": 40}, headers=bearer(org)
    )
    lowered = await client.get(f"/api/v1/employees/{cast.giver}/giving-budget", headers=bearer(org))
    assert (lowered.json()["budget"], lowered.json()["remaining"]) == (40, 0)

    # An award without points needs no budget.
    free = await client.post(RECOGNITIONS, json=cast.body(points=...), headers=bearer(org))
    assert free.status_code == 201, free.text
