"""Survey completion: everyone responded, closed by hand, or past its deadline; exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, delete, update

from plaudit.app_container import Container
from plaudit.domain.ids import new_id
from plaudit.engagement.survey_completion import SurveyDeadlineSweep
from plaudit.store.engagement_tables import employees as employees_table
from plaudit.store.engagement_tables import surveys
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.survey_fixtures import (
    answers_for,
    create_survey,
    employees,
    env_id,
    event_data,
    published_survey,
    respond,
)


async def _get(
    client: httpx.AsyncClient, org: CreatedOrganization, survey: dict[str, Any], path: str = ""
) -> dict[str, Any]:
    got = await client.get(f"/api/v1/surveys/{survey['id']}{path}", headers=bearer(org))
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


async def test_last_response_completes_with_aggregates(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    people = await employees(container, org, 4)
    survey = await published_survey(client, org, people)
    q = [question["id"] for question in survey["questions"]]
    rows = [
        (5, 10, "Paris", ["Gym", "Food"], "Great"),
        (4, 9, "Lyon", ["Gym"], None),
        (3, 7, "Paris", None, None),
        (2, 3, "Paris", None, None),
    ]
    for person, values in zip(people[:3], rows, strict=False):
        response = await respond(client, org, survey, person.id, answers_for(survey, *values))
        assert response.status_code == 201, response.text
    assert await event_data(client, org, "survey.completed") == []
    live = await _get(client, org, survey, "/results")
    assert (live["status"], live["responded"], live["response_rate"]) == ("published", 3, 0.75)

    last = await respond(client, org, survey, people[3].id, answers_for(survey, *rows[3]))
    assert last.status_code == 201, last.text

    (event,) = await event_data(client, org, "survey.completed")
    assert event == {
        "survey_id": survey["id"],
        "title": "Pulse",
        "reason": "all_responded",
        "targeted": 4,
        "responded": 4,
        "response_rate": 1.0,
        "questions": [
            {"question_id": q[0], "type": "rating", "average": 3.5, "responses": 4},
            {"question_id": q[1], "type": "nps", "average": 7.25, "responses": 4},
            {"question_id": q[2], "type": "single_choice", "average": None, "responses": 4},
            {"question_id": q[3], "type": "multiple_choice", "average": None, "responses": 2},
            {"question_id": q[4], "type": "text", "average": None, "responses": 1},
        ],
        # 2 promoters (10, 9), 1 passive (7), 1 detractor (3): 50% - 25%.
        "enps": 25.0,
        "completed_at": event["completed_at"],
    }
    got = await _get(client, org, survey)
    assert (got["status"], got["completion_reason"], got["responded"]) == (
        "completed",
        "all_responded",
        4,
    )
    assert got["completed_at"] is not None
    results = await _get(client, org, survey, "/results")
    assert results["enps"] == 25.0
    by_id = {question["question_id"]: question for question in results["questions"]}
    assert by_id[q[2]]["distribution"] == [
        {"value": "Paris", "count": 3},
        {"value": "Lyon", "count": 1},
    ]
    assert by_id[q[3]]["distribution"] == [
        {"value": "Gym", "count": 2},
        {"value": "Food", "count": 1},
        {"value": "Books", "count": 0},
    ]
    assert [c["count"] for c in by_id[q[0]]["distribution"]] == [0, 1, 1, 1, 1]
    assert by_id[q[4]]["distribution"] is None

    # Completed: no more responses, edits or closing.
    again = await respond(client, org, survey, people[0].id, answers_for(survey, *rows[0]))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "survey_completed"
    closed = await client.post(f"/api/v1/surveys/{survey['id']}/close", headers=bearer(org))
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "survey_completed"
    assert len(await event_data(client, org, "survey.completed")) == 1


async def test_close_completes_with_what_came_in(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    people = await employees(container, org, 3)
    survey = await published_survey(client, org, people)
    for person, nps in zip(people[:2], (6, 8), strict=True):
        response = await respond(
            client, org, survey, person.id, answers_for(survey, 4, nps, "Lyon")
        )
        assert response.status_code == 201

    closed = await client.post(f"/api/v1/surveys/{survey['id']}/close", headers=bearer(org))
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["completion_reason"]) == ("completed", "closed")

    (event,) = await event_data(client, org, "survey.completed")
    assert (event["reason"], event["targeted"], event["responded"]) == ("closed", 3, 2)
    assert event["response_rate"] == 0.6667
    assert event["enps"] == -50.0  # one detractor (6), one passive (8)
    assert event["questions"][1]["average"] == 7.0

    late = await respond(client, org, survey, people[2].id, answers_for(survey, 4, 9, "Lyon"))
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "survey_completed"
    assert (await _get(client, org, survey))["responded"] == 2


async def test_closing_a_draft_is_409_and_a_survey_without_nps_has_no_enps(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    draft = await create_survey(client, org)
    refused = await client.post(f"/api/v1/surveys/{draft['id']}/close", headers=bearer(org))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "survey_not_published"

    (ada,) = await employees(container, org, 1)
    survey = await published_survey(
        client, org, [ada], questions=[{"type": "rating", "prompt": "How?"}]
    )
    closed = await client.post(f"/api/v1/surveys/{survey['id']}/close", headers=bearer(org))
    assert closed.status_code == 200
    (event,) = await event_data(client, org, "survey.completed")
    assert event["enps"] is None
    assert event["questions"] == [
        {
            "question_id": survey["questions"][0]["id"],
            "type": "rating",
            "average": None,
            "responses": 0,
        }
    ]
    assert (event["targeted"], event["responded"], event["response_rate"]) == (1, 0, 0.0)


async def test_deadline_sweep_completes_due_surveys_once(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    people = await employees(container, org, 2)
    closes_at = container.clock.now() + timedelta(days=3)
    survey = await published_survey(client, org, people, closes_at=closes_at.isoformat())
    later = await published_survey(
        client, org, people, closes_at=(closes_at + timedelta(days=30)).isoformat()
    )
    response = await respond(client, org, survey, people[0].id, answers_for(survey, 5, 10, "Lyon"))
    assert response.status_code == 201
    sweep = SurveyDeadlineSweep(container.db, container.clock, container.event_log)

    await sweep.sweep_once(now=closes_at - timedelta(seconds=1))
    assert (await _get(client, org, survey))["status"] == "published"

    assert await sweep.sweep_once(now=closes_at) >= 1
    got = await _get(client, org, survey)
    assert (got["status"], got["completion_reason"]) == ("completed", "closed")
    assert (await _get(client, org, later))["status"] == "published"
    (event,) = await event_data(client, org, "survey.completed")
    assert event["survey_id"] == survey["id"]
    assert (event["reason"], event["responded"], event["response_rate"], event["enps"]) == (
        "closed",
        1,
        0.5,
        100.0,
    )
    assert event["completed_at"].startswith(closes_at.strftime("%Y-%m-%dT%H:%M:%S"))

    await sweep.sweep_once(now=closes_at + timedelta(hours=1))
    assert len(await event_data(client, org, "survey.completed")) == 1


async def test_past_deadline_refuses_responses_until_the_sweep_completes_it(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    people = await employees(container, org, 2)
    closes_at = container.clock.now() + timedelta(days=1)
    survey = await published_survey(client, org, people, closes_at=closes_at.isoformat())
    passed = container.clock.now() - timedelta(seconds=1)

    def move_deadline(conn: Connection) -> None:
        conn.execute(update(surveys).where(surveys.c.id == survey["id"]).values(closes_at=passed))

    await container.db.write(move_deadline)
    late = await respond(client, org, survey, people[0].id, answers_for(survey, 4, 9, "Lyon"))
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "survey_closed"
    assert (await _get(client, org, survey))["responded"] == 0
    assert await event_data(client, org, "survey.response_submitted") == []


async def test_deactivated_targets_do_not_hold_completion_back(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    stays, leaves = await employees(container, org, 2)
    survey = await published_survey(client, org, [stays, leaves])

    def deactivate(conn: Connection) -> None:
        conn.execute(
            update(employees_table)
            .where(employees_table.c.id == leaves.id)
            .values(status="inactive")
        )

    await container.db.write(deactivate)
    response = await respond(client, org, survey, stays.id, answers_for(survey, 4, 9, "Lyon"))
    assert response.status_code == 201
    (event,) = await event_data(client, org, "survey.completed")
    assert (event["reason"], event["targeted"], event["responded"]) == ("all_responded", 2, 1)
    assert event["response_rate"] == 0.5


async def test_sweep_skips_a_survey_it_cannot_complete(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    container: Container,
    caplog: pytest.LogCaptureFixture,
) -> None:
    people = await employees(container, org, 1)
    closes_at = container.clock.now() + timedelta(days=2)
    survey = await published_survey(client, org, people, closes_at=closes_at.isoformat())
    broken_id = new_id("srv")
    now = container.clock.now()

    def broken(conn: Connection) -> None:
        # Stored questions this version cannot read: completing it fails every time.
        conn.execute(
            surveys.insert().values(
                id=broken_id,
                environment_id=env_id(org),
                title="Broken",
                description="",
                questions=[{"unreadable": True}],
                anonymous=False,
                allow_edits=False,
                status="published",
                audience_groups=[],
                closes_at=closes_at - timedelta(hours=1),
                created_at=now,
                updated_at=now,
            )
        )

    def remove(conn: Connection) -> None:
        conn.execute(delete(surveys).where(surveys.c.id == broken_id))

    await container.db.write(broken)
    sweep = SurveyDeadlineSweep(container.db, container.clock, container.event_log)
    try:
        assert await sweep.sweep_once(now=closes_at) >= 1
    finally:
        await container.db.write(remove)
    assert (await _get(client, org, survey))["status"] == "completed"
    assert any(getattr(r, "survey_id", None) == broken_id for r in caplog.records)
