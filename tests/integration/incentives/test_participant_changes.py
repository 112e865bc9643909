"""Participants removed (boards re-ranked, no payouts, history kept, adding back works) and
participants following their groups and their status (join, leave, deactivate)."""

from __future__ import annotations

from typing import Any

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.incentives.payout_service import PayoutService
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.delivery_helpers import events_of_type
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import (
    AFTER,
    PERIOD,
    create_campaign,
    load,
    start_campaign,
)

POINTS = {
    "period": PERIOD,
    "reward": {"type": "points"},
    "payout": {"metric": "revenue", "rate": "1"},
    "milestones": [{"threshold_percent": 50, "reward": {"points": 10}}],
}


async def board_of(client: httpx.AsyncClient, org: CreatedOrganization, campaign: Any) -> list[Any]:
    board_id = campaign["leaderboards"][0]["id"]
    found = await client.get(
        f"/api/v1/campaigns/{campaign['id']}/leaderboards/{board_id}",
        params={"period": "2030-01-01"},
        headers=bearer(org),
    )
    assert found.status_code == 200, found.text
    return [(e["rank"], e["employee"]["id"], e["value"]) for e in found.json()["entries"]]


async def takes_part(
    client: httpx.AsyncClient, org: CreatedOrganization, campaign: Any, who: str
) -> str | None:
    """The participant's attainment, or None when they do not take part."""
    found = await client.get(
        f"/api/v1/campaigns/{campaign['id']}/participants/{who}",
        params={"period": "2030-01-01"},
        headers=bearer(org),
    )
    if found.status_code == 404:
        assert found.json()["error"]["code"] == "participant_not_found"
        return None
    assert found.status_code == 200, found.text
    attainment: str = found.json()["attainment"]
    return attainment


async def test_removed_participants_stop_counting_and_are_not_paid_and_come_back(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada, bo, cy = [await make_employee(container, env, name=n) for n in ("Ada", "Bo", "Cy")]
    campaign = await start_campaign(client, org, [ada.id, bo.id, cy.id], **POINTS)
    path = f"/api/v1/campaigns/{campaign['id']}"
    await load(
        container, env, [("X-1", ada.id, "900"), ("X-2", bo.id, "500"), ("X-3", cy.id, "300")]
    )
    assert await board_of(client, org, campaign) == [
        (1, ada.id, "900"),
        (2, bo.id, "500"),
        (3, cy.id, "300"),
    ]
    announced = len(await events_of_type(client, org, "leaderboard.updated"))

    gone = await client.delete(f"{path}/participants/{ada.id}", headers=bearer(org))
    assert gone.status_code == 204, gone.text
    assert await board_of(client, org, campaign) == [(1, bo.id, "500"), (2, cy.id, "300")]
    updates = await events_of_type(client, org, "leaderboard.updated")
    assert len(updates) == announced + 1
    assert [t["employee"]["id"] for t in updates[0]["data"]["top"]] == [bo.id, cy.id]
    assert await takes_part(client, org, campaign, ada.id) is None
    await load(container, env, [("X-4", ada.id, "100")])  # not counted while out
    assert await board_of(client, org, campaign) == [(1, bo.id, "500"), (2, cy.id, "300")]

    again = await client.delete(f"{path}/participants/{ada.id}", headers=bearer(org))
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "participant_not_found"
    mixed = await client.post(
        f"{path}/participants/remove",
        json={"employee_ids": [bo.id, "usr_nope"]},
        headers=bearer(org),
    )
    assert mixed.status_code == 404
    assert mixed.json()["error"]["details"] == {"employee_ids": ["usr_nope"]}
    assert await takes_part(client, org, campaign, bo.id) == "0.5"  # nothing written
    empty = await client.post(f"{path}/participants/remove", json={}, headers=bearer(org))
    assert empty.status_code == 422

    removed = await client.post(
        f"{path}/participants/remove", json={"employee_ids": [bo.id]}, headers=bearer(org)
    )
    assert removed.json() == {"removed": [bo.id], "group_ids": []}
    back = await client.post(
        f"{path}/participants", json={"employee_ids": [ada.id]}, headers=bearer(org)
    )
    assert back.json()["added"] == [ada.id]
    assert await takes_part(client, org, campaign, ada.id) == "1"  # all her deals count again
    assert await board_of(client, org, campaign) == [(1, ada.id, "1000"), (2, cy.id, "300")]

    await PayoutService(container.db, ManualClock(AFTER), container.event_log).settle()
    listed = await client.get(
        "/api/v1/payouts", params={"campaign_id": campaign["id"]}, headers=bearer(org)
    )
    paid = sorted((p["employee_id"], p["kind"], p["points"]) for p in listed.json()["data"])
    # Bo's milestone reward, made while he took part, stays; his period payout is not made.
    assert paid == sorted(
        [
            (ada.id, "milestone", 10),
            (bo.id, "milestone", 10),
            (ada.id, "period", 1000),
            (cy.id, "period", 300),
        ]
    )
    await client.post(f"{path}/close", headers=bearer(org))
    closed = await client.delete(f"{path}/participants/{cy.id}", headers=bearer(org))
    assert closed.status_code == 409


async def member(client: httpx.AsyncClient, org: CreatedOrganization, group: str, who: str) -> None:
    added = await client.put(
        f"/api/v1/groups/{group}/members", json={"employee_ids": [who]}, headers=bearer(org)
    )
    assert added.status_code in (200, 201), added.text


async def leave(client: httpx.AsyncClient, org: CreatedOrganization, group: str, who: str) -> None:
    left = await client.delete(f"/api/v1/groups/{group}/members/{who}", headers=bearer(org))
    assert left.status_code == 204, left.text


async def test_participants_follow_their_groups_and_their_status(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada, bo, cy, dee = [
        await make_employee(container, env, name=n) for n in ("Ada", "Bo", "Cy", "Dee")
    ]
    north, south = [
        (
            await client.post(
                "/api/v1/groups", json={"name": n, "kind": "team"}, headers=bearer(org)
            )
        ).json()["id"]
        for n in ("North", "South")
    ]
    await member(client, org, north, ada.id)
    await member(client, org, south, dee.id)
    campaign = await create_campaign(client, org, **POINTS)
    path = f"/api/v1/campaigns/{campaign['id']}"
    added = await client.post(
        f"{path}/participants",
        json={"employee_ids": [cy.id], "group_ids": [north, south], "targets": {"revenue": "500"}},
        headers=bearer(org),
    )
    assert added.json()["added"] == sorted([ada.id, cy.id, dee.id])
    await client.post(f"{path}/activate", headers=bearer(org))
    await load(container, env, [("G-1", bo.id, "300"), ("G-2", cy.id, "300")])

    # Bo joins North: he takes part, with the group's target and his earlier deals.
    await member(client, org, north, bo.id)
    assert await takes_part(client, org, campaign, bo.id) == "0.6"
    [reached] = [
        e
        for e in await events_of_type(client, org, "program.milestone_reached")
        if e["data"]["employee"]["id"] == bo.id
    ]
    assert reached["data"]["attainment"] == 0.6
    # Ada leaves North: she stops taking part. Cy, named, stays whatever his groups do.
    await leave(client, org, north, ada.id)
    assert await takes_part(client, org, campaign, ada.id) is None
    await member(client, org, north, cy.id)
    await leave(client, org, north, cy.id)
    assert await takes_part(client, org, campaign, cy.id) == "0.6"

    # Deactivated: out; reactivated: back, with their progress (and Cy with his target).
    for who in (bo.id, cy.id):
        await client.post(f"/api/v1/employees/{who}/deactivate", headers=bearer(org))
        assert await takes_part(client, org, campaign, who) is None
    assert [e[1] for e in await board_of(client, org, campaign)] == [dee.id]
    for who, attained in ((bo.id, "0.6"), (cy.id, "0.6")):
        await client.post(f"/api/v1/employees/{who}/activate", headers=bearer(org))
        assert await takes_part(client, org, campaign, who) == attained

    # Removed by name: group changes do not bring him back; naming him does.
    await client.delete(f"{path}/participants/{bo.id}", headers=bearer(org))
    await leave(client, org, north, bo.id)
    await member(client, org, north, bo.id)
    assert await takes_part(client, org, campaign, bo.id) is None
    await client.post(f"{path}/participants", json={"employee_ids": [bo.id]}, headers=bearer(org))
    assert await takes_part(client, org, campaign, bo.id) == "0.3"  # named: default target

    # A group no longer followed, or deleted, takes its members along.
    missing = await client.delete(f"{path}/groups/grp_nope", headers=bearer(org))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "campaign_group_not_found"
    unfollowed = await client.delete(f"{path}/groups/{north}", headers=bearer(org))
    assert unfollowed.status_code == 204
    await client.delete(f"/api/v1/groups/{south}", headers=bearer(org))
    assert await takes_part(client, org, campaign, dee.id) is None
    shown = await client.get(path, headers=bearer(org))
    assert shown.json()["group_ids"] == []
    assert shown.json()["participant_count"] == 2  # Bo and Cy, both named
