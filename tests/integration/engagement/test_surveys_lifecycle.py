"""Survey drafts, publishing to employees and groups, and reading surveys back."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, func, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.store.engagement_tables import survey_targets
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.survey_fixtures import (
    QUESTIONS,
    create_survey,
    employees,
    event_data,
    make_group,
)


async def _targets(container: Container, survey_id: str) -> int:
    def count(conn: Connection) -> int:
        return int(
            conn.execute(
                select(func.count())
                .select_from(survey_targets)
                .where(survey_targets.c.survey_id == survey_id)
            ).scalar_one()
        )

    return await container.db.read_with(count)


async def test_draft_gets_question_ids_and_stays_editable(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    survey = await create_survey(client, org, description="Weekly", anonymous=True)
    assert survey["id"].startswith("srv_")
    assert survey["status"] == "draft"
    assert (survey["targeted"], survey["responded"]) == (0, 0)
    assert survey["anonymous"] is True
    assert survey["allow_edits"] is False
    questions = survey["questions"]
    assert [q["type"] for q in questions] == [q["type"] for q in QUESTIONS]
    assert all(q["id"].startswith("q_") for q in questions)
    assert questions[0]["required"] is True
    assert questions[3]["required"] is False
    assert questions[3]["options"] == ["Gym", "Food", "Books"]
    assert questions[3]["max_selections"] == 2

    kept = {**QUESTIONS[0], "id": questions[0]["id"], "prompt": "How was your month?"}
    patched = await client.patch(
        f"/api/v1/surveys/{survey['id']}",
        json={"title": "Monthly pulse", "questions": [kept, QUESTIONS[1]], "allow_edits": True},
        headers=bearer(org),
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["title"] == "Monthly pulse"
    assert body["allow_edits"] is True
    assert body["description"] == "Weekly"
    assert body["questions"][0]["id"] == questions[0]["id"]
    assert body["questions"][0]["prompt"] == "How was your month?"
    assert body["questions"][1]["id"] not in {q["id"] for q in questions}

    got = await client.get(f"/api/v1/surveys/{survey['id']}", headers=bearer(org))
    assert got.json() == body
    elsewhere = await client.get(
        f"/api/v1/surveys/{survey['id']}", headers=bearer(org, Environment.STAGING)
    )
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"]["code"] == "survey_not_found"


@pytest.mark.parametrize(
    ("questions", "field"),
    [
        ([], "questions"),
        ([{"type": "slider", "prompt": "?"}], "questions.0.type"),
        ([{"type": "single_choice", "prompt": "Pick"}], "questions[0].options"),
        ([{"type": "single_choice", "prompt": "Pick", "options": ["a"]}], "questions[0].options"),
        (
            [{"type": "multiple_choice", "prompt": "Pick", "options": ["a", "a"]}],
            "questions[0].options",
        ),
        ([{"type": "rating", "prompt": "?", "options": ["a", "b"]}], "questions[0].options"),
        (
            [
                {
                    "type": "multiple_choice",
                    "prompt": "?",
                    "options": ["a", "b"],
                    "max_selections": 3,
                }
            ],
            "questions[0].max_selections",
        ),
        ([{"type": "text", "prompt": "bad\u0000"}], "questions[0].prompt"),
    ],
)
async def test_bad_definitions_are_422_and_write_nothing(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    questions: list[dict[str, Any]],
    field: str,
) -> None:
    response = await client.post(
        "/api/v1/surveys", json={"title": "Pulse", "questions": questions}, headers=bearer(org)
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    if "[" in field:  # refused by the question rules, which name the exact field
        assert error["code"] == "invalid_question"
        assert error["details"]["field"] == field
        assert field in error["message"]
    else:  # refused by the request schema
        assert error["code"] == "validation_error"
        assert field.split(".")[0] in str(error)
    listed = await client.get("/api/v1/surveys", headers=bearer(org))
    assert listed.json()["data"] == []


async def test_closes_at_must_be_future_and_aware(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    past = (container.clock.now() - timedelta(minutes=1)).isoformat()
    for closes_at, code in ((past, "closes_at_passed"), ("2099-01-01T00:00:00", None)):
        response = await client.post(
            "/api/v1/surveys",
            json={"title": "Pulse", "questions": QUESTIONS, "closes_at": closes_at},
            headers=bearer(org),
        )
        assert response.status_code == 422, response.text
        if code:
            assert response.json()["error"]["code"] == code
    listed = await client.get("/api/v1/surveys", headers=bearer(org))
    assert listed.json()["data"] == []


async def test_publish_to_employees_and_groups(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    named = await employees(container, org, 2)
    members = await employees(container, org, 2)
    gone = await employees(container, org, 1, status="inactive")
    group = await make_group(container, org, [named[0], *members, *gone])
    closes_at = container.clock.now() + timedelta(days=7)
    survey = await create_survey(client, org, closes_at=closes_at.isoformat())

    published = await client.post(
        f"/api/v1/surveys/{survey['id']}/publish",
        json={"employee_ids": [e.id for e in named], "group_ids": [group, group]},
        headers=bearer(org),
    )
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["status"] == "published"
    assert body["audience_groups"] == [group]
    # Named employees and active group members, each once; the inactive member is left out.
    assert (body["targeted"], body["responded"]) == (4, 0)
    assert await _targets(container, survey["id"]) == 4

    (event,) = await event_data(client, org, "survey.published")
    assert event == {
        "survey_id": survey["id"],
        "title": "Pulse",
        "questions_count": len(QUESTIONS),
        "audience": {"employees": 4, "groups": [group]},
        "closes_at": event["closes_at"],
        "published_at": event["published_at"],
    }
    assert event["closes_at"].startswith(closes_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert event["closes_at"].endswith("Z")
    assert event["published_at"].endswith("Z")

    # Frozen now: no edits, no second publish.
    frozen = await client.patch(
        f"/api/v1/surveys/{survey['id']}", json={"title": "Other"}, headers=bearer(org)
    )
    assert frozen.status_code == 409
    assert frozen.json()["error"]["code"] == "survey_published"
    again = await client.post(
        f"/api/v1/surveys/{survey['id']}/publish",
        json={"employee_ids": [named[1].id]},
        headers=bearer(org),
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "survey_published"
    assert len(await event_data(client, org, "survey.published")) == 1
    assert await _targets(container, survey["id"]) == 4


async def test_bad_audiences_are_refused_and_write_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    (active,) = await employees(container, org, 1)
    (inactive,) = await employees(container, org, 1, status="inactive")
    idle_group = await make_group(container, org, [inactive])
    survey = await create_survey(client, org)
    # (body, status, code, what the message must name)
    cases = [
        ({}, 422, "empty_audience", "employee or group"),
        ({"employee_ids": [active.id, "usr_nobody"]}, 422, "unknown_employee", "usr_nobody"),
        # An id no row can have: unknown, on PostgreSQL too (which refuses to compare a NUL).
        ({"employee_ids": [active.id, "usr_\u0000"]}, 422, "unknown_employee", "usr_"),
        ({"employee_ids": [active.id, inactive.id]}, 409, "employee_inactive", inactive.id),
        (
            {"employee_ids": [active.id], "group_ids": ["grp_none"]},
            422,
            "unknown_group",
            "grp_none",
        ),
        ({"group_ids": [idle_group]}, 422, "empty_audience", "no active employee"),
        ({"employee_ids": [active.id], "extra": 1}, 422, "validation_error", "extra"),
        # Ids no row can have (PostgreSQL refuses NUL, drivers lone surrogates): unknown.
        ({"employee_ids": [active.id, "usr_\u0000"]}, 422, "unknown_employee", "usr_"),
        ({"employee_ids": [active.id, "usr_\ud800"]}, 422, "unknown_employee", "usr_"),
        ({"group_ids": ["grp_\u0000"]}, 422, "unknown_group", "grp_"),
    ]
    for body, status, code, named in cases:
        response = await client.post(
            f"/api/v1/surveys/{survey['id']}/publish",
            content=json.dumps(body),  # escapes the lone surrogate, as a client's JSON may
            headers={**bearer(org), "content-type": "application/json"},
        )
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == code, body
        assert named in str(error), error
    got = await client.get(f"/api/v1/surveys/{survey['id']}", headers=bearer(org))
    assert got.json()["status"] == "draft"
    assert await _targets(container, survey["id"]) == 0
    assert await event_data(client, org, "survey.published") == []
    missing = await client.post(
        "/api/v1/surveys/srv_missing/publish",
        json={"employee_ids": [active.id]},
        headers=bearer(org),
    )
    assert missing.status_code == 404


async def test_list_filters_by_status_and_pages(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    (target,) = await employees(container, org, 1)
    drafts = [await create_survey(client, org, title=f"Draft {n}") for n in range(3)]
    live = await create_survey(client, org, title="Live")
    await client.post(
        f"/api/v1/surveys/{live['id']}/publish",
        json={"employee_ids": [target.id]},
        headers=bearer(org),
    )

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"status": "draft", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/surveys", params=params, headers=bearer(org))).json()
        seen += [s["id"] for s in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [d["id"] for d in reversed(drafts)]  # newest first

    published = await client.get(
        "/api/v1/surveys", params={"status": "published"}, headers=bearer(org)
    )
    (only,) = published.json()["data"]
    assert (only["id"], only["targeted"], only["responded"]) == (live["id"], 1, 0)
    bad = await client.get("/api/v1/surveys", params={"status": "open"}, headers=bearer(org))
    assert bad.status_code == 422
