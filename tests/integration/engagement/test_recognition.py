"""Awarding recognitions over the API: the stored recognition, its events and the ledger."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.events.models import rfc3339
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.recognition_support import (
    balance,
    employees,
    events_of,
    written,
)

RECOGNITIONS = "/api/v1/recognitions"


async def award(
    client: httpx.AsyncClient, org: CreatedOrganization, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(RECOGNITIONS, json=body, headers={**bearer(org), **headers})


async def test_award_with_badge_and_points_raises_every_event_and_credits_the_ledger(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    alice, bob, carmen = await employees(container, org, "Alice", "Bob", "Carmen")
    badge = (
        await client.post(
            "/api/v1/badges",
            json={"name": "Customer Hero", "description": "Above and beyond."},
            headers=bearer(org),
        )
    ).json()
    before = datetime.now().astimezone()

    response = await award(
        client,
        org,
        {
            "giver_id": alice.id,
            "receiver_ids": [carmen.id, bob.id],
            "message": "Thank you both for the Acme renewal!",
            "badge_id": badge["id"],
            "points": 50,
            "company_value": "Customer obsession",
        },
    )

    assert response.status_code == 201, response.text
    recognition = response.json()
    assert recognition["id"].startswith("rec_")
    assert recognition == {
        "id": recognition["id"],
        "giver_id": alice.id,
        "receiver_ids": sorted([bob.id, carmen.id]),
        "message": "Thank you both for the Acme renewal!",
        "badge_id": badge["id"],
        "company_value": "Customer obsession",
        "points_per_receiver": 50,
        "total_points": 100,
        "created_at": recognition["created_at"],
    }
    created_at = datetime.fromisoformat(recognition["created_at"])
    assert before - timedelta(seconds=1) <= created_at <= datetime.now().astimezone()
    fetched = await client.get(f"{RECOGNITIONS}/{recognition['id']}", headers=bearer(org))
    assert fetched.json() == recognition

    [awarded] = await events_of(client, org, "recognition.awarded")
    stamp = awarded["created_at"]
    assert stamp == rfc3339(created_at)
    assert awarded == {
        "recognition_id": recognition["id"],
        "giver": alice.ref(),
        "receivers": [carmen.ref(), bob.ref()],  # in the order the giver named them
        "message": "Thank you both for the Acme renewal!",
        "badge": {"id": badge["id"], "name": "Customer Hero"},
        "company_value": "Customer obsession",
        "points_per_receiver": 50,
        "total_points": 100,
        "created_at": stamp,
    }
    assert await events_of(client, org, "badge.given") == [
        {
            "badge": {
                "id": badge["id"],
                "name": "Customer Hero",
                "description": "Above and beyond.",
            },
            "recognition_id": recognition["id"],
            "giver": alice.ref(),
            "receiver": receiver.ref(),
            "created_at": stamp,
        }
        for receiver in (carmen, bob)
    ]
    earned = await events_of(client, org, "points.earned")
    assert [(e["employee"], e["points"], e["balance_after"]) for e in earned] == [
        (carmen.ref(), 50, 50),
        (bob.ref(), 50, 50),
    ]
    for event in earned:
        assert event["entry_id"].startswith("pts_")
        assert event["reason"] == "recognition"
        assert event["source"] == {"type": "recognition", "id": recognition["id"]}
        assert event["created_at"] == stamp

    assert await balance(container, bob) == 50
    assert await balance(container, carmen) == 50
    assert await balance(container, alice) == 0
    budget = await client.get(f"/api/v1/employees/{alice.id}/giving-budget", headers=bearer(org))
    assert budget.json() == {
        "employee_id": alice.id,
        "month": created_at.strftime("%Y-%m"),
        "budget": None,
        "given": 100,
        "remaining": None,
    }

    # A second award adds to the balances the first one left.
    again = await award(
        client, org, {"giver_id": carmen.id, "receiver_ids": [bob.id], "message": "!", "points": 7}
    )
    assert again.status_code == 201, again.text
    assert await balance(container, bob) == 57
    assert (await events_of(client, org, "points.earned"))[-1]["balance_after"] == 57


async def test_award_without_points_or_badge_raises_only_recognition_awarded(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    alice, bob = await employees(container, org, "Alice", "Bob")
    response = await award(
        client, org, {"giver_id": alice.id, "receiver_ids": [bob.id], "message": "Thanks!"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["points_per_receiver"] == 0
    assert response.json()["total_points"] == 0
    [awarded] = await events_of(client, org, "recognition.awarded")
    assert awarded["badge"] is None
    assert awarded["company_value"] is None
    assert (awarded["points_per_receiver"], awarded["total_points"]) == (0, 0)
    assert await events_of(client, org, "badge.given") == []
    assert await events_of(client, org, "points.earned") == []
    counts = await written(container, org)
    assert (counts.point_entries, counts.budget_usage, counts.events) == (0, 0, 1)


async def test_list_filters_and_pages_newest_first(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    alice, bob, carmen = await employees(container, org, "Alice", "Bob", "Carmen")
    made = []
    for giver, receivers in (
        (alice, [bob]),
        (bob, [carmen]),
        (alice, [carmen, bob]),
        (carmen, [alice]),
    ):
        body = {"giver_id": giver.id, "receiver_ids": [r.id for r in receivers], "message": "Hi"}
        made.append((await award(client, org, body)).json()["id"])
    newest_first = made[::-1]

    async def ids(**params: Any) -> list[str]:
        response = await client.get(RECOGNITIONS, params=params, headers=bearer(org))
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["data"]]

    assert await ids() == newest_first
    assert await ids(giver_id=alice.id) == [made[2], made[0]]
    assert await ids(receiver_id=bob.id) == [made[2], made[0]]
    assert await ids(receiver_id=carmen.id, giver_id=bob.id) == [made[1]]
    assert await ids(giver_id="usr_nobody") == []
    third = (await client.get(f"{RECOGNITIONS}/{made[2]}", headers=bearer(org))).json()
    assert await ids(since=third["created_at"]) == [made[3], made[2]]
    assert await ids(until=third["created_at"]) == [made[1], made[0]]

    first_page = (await client.get(RECOGNITIONS, params={"limit": 3}, headers=bearer(org))).json()
    assert [r["id"] for r in first_page["data"]] == newest_first[:3]
    assert first_page["has_more"] is True
    rest = await ids(limit=3, cursor=first_page["next_cursor"])
    assert rest == newest_first[3:]

    # The other environment sees none of them.
    staging = await client.get(RECOGNITIONS, headers=bearer(org, Environment.STAGING))
    assert staging.json()["data"] == []
    missing = await client.get(
        f"{RECOGNITIONS}/{made[0]}", headers=bearer(org, Environment.STAGING)
    )
    assert missing.status_code == 404


async def test_bad_list_parameters_are_4xx(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    for params, status, code in (
        ({"since": "2026-01-01T00:00:00"}, 400, "invalid_time"),
        (
            {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            400,
            "invalid_time_range",
        ),
        ({"cursor": "not-a-cursor"}, 400, "invalid_cursor"),
        ({"giver_id": "usr_\u0000"}, 422, "validation_error"),
        ({"limit": 0}, 422, "validation_error"),
    ):
        response = await client.get(RECOGNITIONS, params=params, headers=bearer(org))
        assert response.status_code == status, (params, response.text)
        assert response.json()["error"]["code"] == code


async def test_idempotency_key_returns_the_first_recognition(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    alice, bob = await employees(container, org, "Alice", "Bob")
    body = {"giver_id": alice.id, "receiver_ids": [bob.id], "message": "Thanks", "points": 5}
    first = await award(client, org, body, **{"Idempotency-Key": "award-1"})
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await award(client, org, body, **{"Idempotency-Key": "award-1"})
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await balance(container, bob) == 5
    counts = await written(container, org)
    assert (counts.recognitions, counts.point_entries, counts.budget_usage) == (1, 1, 5)

    # The same key with another body is the client's bug: refused, nothing written.
    other = await award(client, org, {**body, "points": 6}, **{"Idempotency-Key": "award-1"})
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert await written(container, org) == counts


async def test_giving_budget_of_an_unknown_employee_is_404(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    response = await client.get("/api/v1/employees/usr_nope/giving-budget", headers=bearer(org))
    assert response.status_code == 404
    assert "usr_nope" in response.json()["error"]["message"]
