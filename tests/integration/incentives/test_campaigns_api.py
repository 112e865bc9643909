"""The campaign admin API: definition, participants, targets, lifecycle, and bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import campaign_body, campaign_counts, create_campaign


async def test_create_get_list_replace_activate_close(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    created = await create_campaign(client, org)
    assert created["id"].startswith("cmp_")
    assert created["status"] == "draft"
    assert created["period"] == {
        "start": "2026-01-01",
        "end": "2026-03-31",
        "time_zone": "UTC",
        "recurrence": "none",
    }
    assert created["payout"]["slabs"][1] == {"from": "1000", "to": None, "rate": "0.1"}
    assert created["leaderboards"][0]["id"].startswith("lb_")
    path = f"/api/v1/campaigns/{created['id']}"
    assert (await client.get(path, headers=bearer(org))).json() == created

    replaced = await client.put(path, json=campaign_body(name="Renamed"), headers=bearer(org))
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["name"] == "Renamed"

    listed = await client.get("/api/v1/campaigns?status=draft", headers=bearer(org))
    assert [c["id"] for c in listed.json()["data"]] == [created["id"]]

    ada = await make_employee(container, env, name="Ada")
    bo = await make_employee(container, env, name="Bo")
    group = await client.post(
        "/api/v1/groups", json={"name": "Sales", "kind": "team"}, headers=bearer(org)
    )
    members = await client.put(
        f"/api/v1/groups/{group.json()['id']}/members",
        json={"employee_ids": [bo.id]},
        headers=bearer(org),
    )
    assert members.status_code in (200, 201), members.text
    added = await client.post(
        f"{path}/participants",
        json={"employee_ids": [ada.id], "group_ids": [group.json()["id"]]},
        headers=bearer(org),
    )
    assert added.json() == {"added": sorted([ada.id, bo.id]), "already": []}
    targets = await client.put(
        f"{path}/targets",
        json={"targets": [{"employee_id": ada.id, "targets": {"revenue": "2500"}}]},
        headers=bearer(org),
    )
    assert targets.json() == {"updated": 1}

    active = await client.post(f"{path}/activate", headers=bearer(org))
    assert active.json()["status"] == "active"
    assert active.json()["participant_count"] == 2
    again = await client.post(f"{path}/activate", headers=bearer(org))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "campaign_status"
    frozen = await client.put(path, json=campaign_body(), headers=bearer(org))
    assert frozen.status_code == 409
    closed = await client.post(f"{path}/close", headers=bearer(org))
    assert closed.json()["status"] == "closed"

    # Another organization sees nothing of it.
    other = await container.tenancy.create_organization("Other")
    hidden = await client.get(path, headers=bearer(other))
    assert hidden.status_code == 404


def _slabs(*bands: tuple[str, str | None]) -> dict[str, Any]:
    return {
        "metric": "revenue",
        "slabs": [{"from": lo, "to": hi, "rate": "0.1"} for lo, hi in bands],
    }


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"period": {"start": "2026-02-01", "end": "2026-01-01"}}, "invalid_period"),
        (
            {"period": {"start": "2026-01-31", "end": "2026-06-01", "recurrence": "monthly"}},
            "invalid_period",
        ),
        ({"payout": _slabs(("0", "10"), ("11", None))}, "slab_gap_or_overlap"),
        ({"payout": _slabs(("0", "10"), ("5", None))}, "slab_gap_or_overlap"),
        ({"payout": _slabs(("0", "10"), ("10", "10"))}, "slab_not_ascending"),
        ({"payout": {"metric": "nope", "rate": "1"}}, "unknown_metric"),
        ({"leaderboards": [{"rank_by": "nope"}]}, "unknown_metric"),
        ({"leaderboards": [{"rank_by": "revenue", "group_id": "grp_nope"}]}, "unknown_group"),
        ({"reward": {"type": "cash"}}, "invalid_campaign"),
        ({"payout": {"metric": "revenue"}}, "invalid_campaign"),
        (
            {"milestones": [{"threshold_percent": 50}, {"threshold_percent": 50}]},
            "invalid_campaign",
        ),
        ({"surprise": 1}, "validation_error"),
    ],
)
async def test_bad_definitions_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    overrides: dict[str, Any],
    code: str,
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    body = campaign_body(**overrides)
    if "period" in overrides:
        body["period"] = {"time_zone": "UTC", **overrides["period"]}
    response = await client.post("/api/v1/campaigns", json=body, headers=bearer(org))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert await campaign_counts(container, env) == (0, 0)


async def test_bad_participants_and_targets_write_nothing(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    created = await create_campaign(client, org)
    path = f"/api/v1/campaigns/{created['id']}"
    ada = await make_employee(container, env, name="Ada")
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("participants", {"employee_ids": [ada.id, "usr_nope"]}, "unknown_employee"),
        ("participants", {"group_ids": ["grp_nope"]}, "unknown_group"),
        ("participants", {"employee_ids": [ada.id], "targets": {"calls": "3"}}, "unknown_metric"),
    ]
    for suffix, body, code in cases:
        response = await client.post(f"{path}/{suffix}", json=body, headers=bearer(org))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == code
    assert await campaign_counts(container, env) == (1, 0)
    unknown = await client.put(
        f"{path}/targets",
        json={"targets": [{"employee_id": ada.id, "targets": {"revenue": "5"}}]},
        headers=bearer(org),
    )
    assert unknown.json()["error"]["code"] == "unknown_participant"
    missing = await client.post("/api/v1/campaigns/cmp_nope/activate", headers=bearer(org))
    assert missing.status_code == 404


async def test_odd_text_and_numbers_are_4xx_on_every_database(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    metric = campaign_body()["metrics"][0]
    for overrides in (
        {"name": "Q1\u0000"},
        {"metrics": [{**metric, "filters": {"st\u0000age": "won"}}]},
        {"metrics": [{**metric, "target": "1e999999"}]},
        {"payout": {"metric": "revenue", "rate": "NaN"}},
        {"payout": {"metric": "revenue", "rate": "-1"}},
    ):
        response = await client.post(
            "/api/v1/campaigns", json=campaign_body(**overrides), headers=bearer(org)
        )
        assert response.status_code == 422, (overrides, response.text)
    assert await campaign_counts(container, env) == (0, 0)
    created = await create_campaign(client, org)
    for path in (
        "/api/v1/campaigns/cmp%00x",
        f"/api/v1/campaigns/{created['id']}/participants/usr%00x",
        f"/api/v1/campaigns/{created['id']}/leaderboards/lb%00x",
        "/api/v1/payouts/pay%00x",
    ):
        assert (await client.get(path, headers=bearer(org))).status_code == 404, path
    nul = await client.post(
        f"/api/v1/campaigns/{created['id']}/participants",
        json={"employee_ids": ["usr\u0000x"], "group_ids": ["grp\u0000y"]},
        headers=bearer(org),
    )
    assert nul.status_code == 422
    listed = await client.get(
        "/api/v1/payouts", params={"employee_id": "usr\u0000x"}, headers=bearer(org)
    )
    assert listed.json()["data"] == []
    decided = await client.post(
        "/api/v1/payouts/approve", json={"payout_ids": ["pay\u0001x"]}, headers=bearer(org)
    )
    assert decided.status_code == 404
