"""One organization's engagement program end to end, through the HTTP API only.

Every engagement action is taken once; afterwards each of the 14 engagement event types is
in the event log with a payload the reference JSON Schema validator accepts, and an
endpoint subscribed to everything received each event signed.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from standardwebhooks.webhooks import Webhook

from plaudit.app_container import Container
from plaudit.domain.event_catalog import _is_rfc3339_date_time, default_catalog
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.delivery_helpers import create_endpoint
from tests.integration.receiver import Receiver

RUN_DATE = date(2026, 3, 10)
RUN_AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ENGAGEMENT_TYPES = {
    "employee.activated",
    "employee.deactivated",
    "recognition.awarded",
    "badge.given",
    "shoutout.posted",
    "points.earned",
    "reward.redeemed",
    "voucher.issued",
    "survey.published",
    "survey.response_submitted",
    "survey.completed",
    "milestone.work_anniversary",
    "milestone.birthday",
    "milestone.onboarding",
}


async def post(
    client: httpx.AsyncClient, org: CreatedOrganization, path: str, body: Any, status: int = 201
) -> dict[str, Any]:
    response = await client.post(f"/api/v1{path}", json=body, headers=bearer(org))
    assert response.status_code == status, response.text
    created: dict[str, Any] = response.json()
    return created


async def all_events(client: httpx.AsyncClient, org: CreatedOrganization) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, "order": "asc"}
        if cursor:
            params["cursor"] = cursor
        page = await client.get("/api/v1/events", params=params, headers=bearer(org))
        assert page.status_code == 200, page.text
        found.extend(page.json()["data"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found


def format_checker() -> FormatChecker:
    # The same formats the catalog checks, RFC 3339 date-times included.
    checker = FormatChecker()
    checker.checks("date-time")(_is_rfc3339_date_time)
    return checker


async def test_a_whole_program_raises_every_engagement_event_valid_and_delivered_signed(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, org, receiver.url("/journey"))

    # People: three created one by one, the veteran through a CSV import.
    giver = await post(client, org, "/employees", {"name": "Gus Giver", "email": "gus@example.com"})
    newcomer = await post(client, org, "/employees", {"name": "Nia New", "hire_date": "2026-02-08"})
    leaver = await post(client, org, "/employees", {"name": "Lee Leaver"})
    imported = await client.post(
        "/api/v1/employees/import",
        content=b"external_id,name,email,hire_date,birth_date\n"
        b"E-1,Ada Veteran,ada@example.com,2021-03-10,1990-03-10\n",
        headers={**bearer(org), "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert report["summary"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0}
    veteran_id = report["rows"][0]["employee_id"]

    team = await post(client, org, "/groups", {"name": "Team", "kind": "team"})
    members = [giver["id"], newcomer["id"], veteran_id]
    await client.put(
        f"/api/v1/groups/{team['id']}/members", json={"employee_ids": members}, headers=bearer(org)
    )
    badge = await post(client, org, "/badges", {"name": "Customer Hero"})
    reward = await post(
        client,
        org,
        "/rewards",
        {"name": "Book", "point_cost": 30, "value": {"amount": "25.00", "currency": "EUR"}},
    )

    # Recognition with badge and points, a shoutout, and a redemption paid with those points.
    recognition = await post(
        client,
        org,
        "/recognitions",
        {
            "giver_id": giver["id"],
            "receiver_ids": [veteran_id],
            "message": "Saved the launch",
            "badge_id": badge["id"],
            "points": 50,
            "company_value": "Ownership",
        },
    )
    assert recognition["points_per_receiver"] == 50
    await post(
        client,
        org,
        "/shoutouts",
        {"author_id": newcomer["id"], "message": "Welcome!", "mention_ids": [giver["id"]]},
    )
    redemption = await post(
        client, org, "/redemptions", {"employee_id": veteran_id, "reward_id": reward["id"]}
    )
    assert redemption["voucher"]["code"]

    # A survey to the team that everyone answers: the last answer completes it.
    survey = await post(
        client,
        org,
        "/surveys",
        {"title": "Pulse", "questions": [{"type": "nps", "prompt": "Recommend us?"}]},
    )
    await post(
        client, org, f"/surveys/{survey['id']}/publish", {"group_ids": [team["id"]]}, status=200
    )
    for score, member in zip([10, 9, 3], members, strict=True):
        answers = [{"question_id": survey["questions"][0]["id"], "value": score}]
        await post(
            client,
            org,
            f"/surveys/{survey['id']}/responses",
            {"employee_id": member, "answers": answers},
        )
    finished = await client.get(f"/api/v1/surveys/{survey['id']}", headers=bearer(org))
    assert finished.json()["status"] == "completed", finished.text

    await post(client, org, f"/employees/{leaver['id']}/deactivate", {}, status=200)

    # The daily job, for a day with the veteran's anniversary and birthday and the
    # newcomer's 30th day.
    run = await container.milestones.run_for(
        RUN_DATE, RUN_AT, environment_ids=list(org.environment_ids.values())
    )
    assert run.to_json()["raised"] == {"work_anniversary": 1, "birthday": 1, "onboarding": 1}

    events = await all_events(client, org)
    assert ENGAGEMENT_TYPES - {e["type"] for e in events} == set()
    catalog = default_catalog()
    checker = format_checker()
    for event in events:
        validator = Draft202012Validator(catalog.get(event["type"]).schema, format_checker=checker)
        errors = [e.message for e in validator.iter_errors(event["data"])]
        assert errors == [], (event["type"], errors)

    # Every event reached the endpoint, each signed with its secret.
    delivered = await receiver.wait_for(len(events), "/journey", timeout=30)
    bodies = [Webhook(endpoint["secret"]).verify(r.body, r.headers) for r in delivered]
    assert sorted(b["type"] for b in bodies) == sorted(e["type"] for e in events)
    completed = next(json.loads(r.body) for r in delivered if b'"survey.completed"' in r.body)
    assert completed["data"]["reason"] == "all_responded"
    assert completed["data"]["responded"] == completed["data"]["targeted"] == 3
    assert completed["data"]["enps"] == 33.3  # 2 promoters, 1 detractor of 3
