"""Connect: active campaigns, one campaign, its leaderboard, participants and progress;
drafts and other organizations' campaigns are 404s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.incentives.campaign_cache import CampaignCache
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.connect.seed import connect_headers
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import create_campaign, start_campaign
from tests.integration.ingest.helpers import create_source, deal, push

BASE = "/connect/v1/campaigns"


async def test_connect_reads_campaign_results(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada", email="ada@example.com")
    bo = await make_employee(container, env, name="Bo", email="bo@example.com")
    cy = await make_employee(container, env, name="Cy", email="cy@example.com")
    draft = await create_campaign(client, org, name="Not yet")
    campaign = await start_campaign(client, org, [ada.id, bo.id, cy.id])
    source = await create_source(client, org)
    await push(
        client,
        source,
        [
            deal("D-1", "ada@example.com", 1500),
            deal("D-2", "bo@example.com", 1500),
            deal("D-3", "cy@example.com", "400.25"),
        ],
    )
    headers = await connect_headers(container, org)

    listed = await client.get(BASE, headers=headers)
    assert listed.status_code == 200, listed.text
    assert [c["id"] for c in listed.json()["data"]] == [campaign["id"]]
    one = await client.get(f"{BASE}/{campaign['id']}", headers=headers)
    assert one.json()["name"] == "Q1 revenue push"
    assert "auto_approve" not in one.json()
    assert "min_interval_s" not in one.json()["leaderboards"][0]

    board = await client.get(f"{BASE}/{campaign['id']}/leaderboard", headers=headers)
    assert board.status_code == 200, board.text
    assert board.json()["period"] == {"start": "2026-01-01", "end": "2026-03-31"}
    assert [(e["rank"], e["employee"]["id"], e["value"]) for e in board.json()["entries"]] == [
        (1, ada.id, "1500"),
        (1, bo.id, "1500"),
        (3, cy.id, "400.25"),
    ]

    progress = await client.get(f"{BASE}/{campaign['id']}/participants/{ada.id}", headers=headers)
    assert progress.status_code == 200, progress.text
    body = progress.json()
    assert body["attainment"] == "1.5"
    assert body["metrics"][0]["value"] == "1500"
    assert body["metrics"][0]["target"] == "1000"
    # Marginal slabs: 1 000 at 5 % + 500 at 10 % = 100.00 EUR.
    assert body["projected_payout"] == {
        "points": None,
        "amount": {"amount": "100.00", "currency": "EUR"},
    }
    assert [m["threshold_percent"] for m in body["milestones_reached"]] == ["50", "100"]

    first = await client.get(
        f"{BASE}/{campaign['id']}/participants", headers=headers, params={"limit": 2}
    )
    second = await client.get(
        f"{BASE}/{campaign['id']}/participants",
        headers=headers,
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
    )
    ids = [p["employee"]["id"] for p in first.json()["data"] + second.json()["data"]]
    assert ids == sorted([ada.id, bo.id, cy.id])
    assert second.json()["has_more"] is False

    # The admin API reads the same numbers.
    admin = await client.get(
        f"/api/v1/campaigns/{campaign['id']}/participants/{ada.id}", headers=bearer(org)
    )
    assert admin.json() == body

    # Not found: a draft, another organization's campaign, a non-participant, a bad period.
    for path in ("", "/leaderboard", "/participants", f"/participants/{ada.id}"):
        unpublished = await client.get(f"{BASE}/{draft['id']}{path}", headers=headers)
        assert unpublished.status_code == 404, path
        assert unpublished.json()["error"]["code"] == "campaign_not_found"
    other = await container.tenancy.create_organization("Other")
    theirs = await connect_headers(container, other)
    for path in ("", "/leaderboard", "/participants", f"/participants/{ada.id}"):
        hidden = await client.get(f"{BASE}/{campaign['id']}{path}", headers=theirs)
        assert hidden.status_code == 404, path
        assert hidden.json()["error"]["code"] == "campaign_not_found"
    outsider = await make_employee(container, env, name="Dee")
    missing = await client.get(
        f"{BASE}/{campaign['id']}/participants/{outsider.id}", headers=headers
    )
    assert missing.status_code == 404
    bad = await client.get(
        f"{BASE}/{campaign['id']}/leaderboard", headers=headers, params={"period": "2026-02-01"}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "unknown_period"


async def test_a_held_campaigns_kept_top_is_read_briefly_with_the_same_answers(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada", email="ada@example.com")
    bo = await make_employee(container, env, name="Bo", email="bo@example.com")
    campaign = await start_campaign(client, org, [ada.id, bo.id])
    source = await create_source(client, org)
    await push(
        client, source, [deal("D-1", "ada@example.com", 700), deal("D-2", "bo@example.com", 90)]
    )
    headers = await connect_headers(container, org)
    path = f"{BASE}/{campaign['id']}/leaderboard"
    full = await client.get(path, headers=headers)  # holds the campaign, if not yet held
    assert full.status_code == 200, full.text

    full_reads: list[object] = []
    read_with = container.db.read_with

    async def counted(unit: Any) -> Any:
        full_reads.append(unit)
        return await read_with(unit)

    monkeypatch.setattr(container.db, "read_with", counted)
    board_id = full.json()["leaderboard_id"]
    brief = await client.get(path, headers=headers)
    assert (brief.status_code, brief.content) == (200, full.content)
    named = await client.get(path, headers=headers, params={"leaderboard_id": board_id})
    assert (named.status_code, named.content) == (200, full.content)
    # Errors in the full read's order: the campaign, then the period, then the board.
    both = await client.get(
        path, headers=headers, params={"leaderboard_id": "lb_nope", "period": "2026-02-01"}
    )
    assert (both.status_code, both.json()["error"]["code"]) == (422, "unknown_period")
    unknown = await client.get(path, headers=headers, params={"leaderboard_id": "lb_nope"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (
        404,
        "leaderboard_not_found",
    )
    if container.db.dialect == "sqlite":
        assert full_reads == []  # all of it brief, on the event loop

    unnamed = await client.get(path, headers=headers, params={"leaderboard_id": "lb_\x00"})
    assert (unnamed.status_code, unnamed.json()["error"]["code"]) == (
        404,
        "leaderboard_not_found",
    )
    # A campaign not held at its revision is loaded: a full read, with the same answers.
    full_reads.clear()
    monkeypatch.setattr(CampaignCache, "held", lambda *_args: None)
    loaded = await client.get(path, headers=headers)
    assert (loaded.status_code, loaded.content) == (200, full.content)
    bad_period = await client.get(path, headers=headers, params={"period": "2026-02-01"})
    assert bad_period.json()["error"]["code"] == "unknown_period"
    if container.db.dialect == "sqlite":
        assert len(full_reads) == 2
    removed = await client.delete(
        f"/api/v1/campaigns/{campaign['id']}/participants/{bo.id}", headers=bearer(org)
    )
    assert removed.status_code == 204, removed.text
    monkeypatch.undo()
    after = await client.get(path, headers=headers)
    assert [e["employee"]["id"] for e in after.json()["entries"]] == [ada.id]
