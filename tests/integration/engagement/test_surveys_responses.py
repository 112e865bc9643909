"""Survey responses: checked against the questions, one per employee unless edits are allowed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, update

from plaudit.app_container import Container
from plaudit.store.engagement_tables import employees as employees_table
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.survey_fixtures import (
    answers_for,
    create_survey,
    employees,
    event_data,
    published_survey,
    respond,
)


async def _responses(
    client: httpx.AsyncClient, org: CreatedOrganization, survey: dict[str, Any]
) -> list[dict[str, Any]]:
    listed = await client.get(f"/api/v1/surveys/{survey['id']}/responses", headers=bearer(org))
    assert listed.status_code == 200, listed.text
    data: list[dict[str, Any]] = listed.json()["data"]
    return data


async def test_response_is_stored_and_raised_with_its_respondent(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    ada, bob = await employees(container, org, 2)
    survey = await published_survey(client, org, [ada, bob])
    answers = answers_for(survey, 4, 9, "Lyon", ["Books", "Gym"], "  More demos  ")

    created = await respond(client, org, survey, ada.id, answers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("rsp_")
    assert body["employee_id"] == ada.id
    q = [question["id"] for question in survey["questions"]]
    expected = [
        {"question_id": q[0], "type": "rating", "value": 4},
        {"question_id": q[1], "type": "nps", "value": 9},
        {"question_id": q[2], "type": "single_choice", "value": "Lyon"},
        {"question_id": q[3], "type": "multiple_choice", "value": ["Books", "Gym"]},
        {"question_id": q[4], "type": "text", "value": "More demos"},
    ]
    assert body["answers"] == expected

    (event,) = await event_data(client, org, "survey.response_submitted")
    assert event == {
        "survey_id": survey["id"],
        "response_id": body["id"],
        "respondent": ada.ref(),
        "anonymous": False,
        "answers": expected,
        "submitted_at": event["submitted_at"],
    }
    assert await _responses(client, org, survey) == [body]
    got = await client.get(f"/api/v1/surveys/{survey['id']}", headers=bearer(org))
    assert (got.json()["targeted"], got.json()["responded"]) == (2, 1)
    assert got.json()["status"] == "published"


async def test_anonymous_responses_never_name_the_employee(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    ada, bob = await employees(container, org, 2)
    survey = await published_survey(client, org, [ada, bob], anonymous=True)
    created = await respond(client, org, survey, ada.id, answers_for(survey, 3, 7, "Paris"))
    assert created.status_code == 201, created.text
    assert created.json()["employee_id"] is None
    (event,) = await event_data(client, org, "survey.response_submitted")
    assert event["respondent"] is None
    assert event["anonymous"] is True
    listed = await _responses(client, org, survey)
    assert [r["employee_id"] for r in listed] == [None]
    assert ada.id not in str(listed)
    assert ada.id not in str(event)


BAD_VALUES: list[tuple[int, Any]] = [
    (0, 0),
    (0, 6),
    (0, True),
    (0, 3.5),
    (0, "4"),
    (1, 11),
    (1, -1),
    (1, False),
    (2, "Berlin"),
    (2, ["Paris"]),
    (3, "Gym"),
    (3, ["Gym", "Gym"]),
    (3, ["Gym", "Food", "Books"]),
    (3, ["Spa"]),
    (3, []),
    (4, 12),
    (4, "x" * 5001),
    (4, "nul\u0000"),
]


@pytest.mark.parametrize(("index", "value"), BAD_VALUES)
async def test_each_wrong_answer_is_422_naming_it_and_writes_nothing(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    container: Container,
    index: int,
    value: Any,
) -> None:
    (ada,) = await employees(container, org, 1)
    survey = await published_survey(client, org, [ada])
    values: list[Any] = [4, 9, "Lyon", None, None]
    values[index] = value
    response = await respond(client, org, survey, ada.id, answers_for(survey, *values))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    question = survey["questions"][index]
    assert error["code"] == "invalid_answer"
    assert error["details"]["answers"][0]["question_id"] == question["id"]
    assert question["id"] in error["message"]
    assert question["type"] in error["message"]
    assert await _responses(client, org, survey) == []
    assert await event_data(client, org, "survey.response_submitted") == []


async def test_unknown_missing_and_duplicate_answers_are_422(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    (ada,) = await employees(container, org, 1)
    survey = await published_survey(client, org, [ada])
    good = answers_for(survey, 4, 9, "Lyon")
    cases = [
        (
            [*good, {"question_id": "q_nope", "value": 1}, {"question_id": "q_nah", "value": 1}],
            "unknown_question",
            ["q_nope", "q_nah"],
        ),
        (good[:1], "missing_answer", [survey["questions"][1]["id"], survey["questions"][2]["id"]]),
        ([*good, good[0]], "duplicate_answer", [survey["questions"][0]["id"]]),
        (
            [*good[:2], {"question_id": survey["questions"][2]["id"], "value": None}],
            "missing_answer",
            [survey["questions"][2]["id"]],
        ),
    ]
    for answers, code, named in cases:
        response = await respond(client, org, survey, ada.id, answers)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == code
        assert error["details"]["question_ids"] == named
        assert all(question_id in error["message"] for question_id in named)
    assert await _responses(client, org, survey) == []
    assert await event_data(client, org, "survey.response_submitted") == []


async def test_who_may_respond(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    ada, bob, outsider = await employees(container, org, 3)
    survey = await published_survey(client, org, [ada, bob])
    answers = answers_for(survey, 4, 9, "Lyon")

    def deactivate(conn: Connection) -> None:
        conn.execute(
            update(employees_table).where(employees_table.c.id == bob.id).values(status="inactive")
        )

    await container.db.write(deactivate)
    draft = await create_survey(client, org)
    cases = [
        (survey, "usr_ghost", 422, "unknown_employee"),
        (survey, bob.id, 409, "employee_inactive"),
        (survey, outsider.id, 409, "not_in_audience"),
        (draft, ada.id, 409, "survey_not_published"),
        ({"id": "srv_missing"}, ada.id, 404, "survey_not_found"),
    ]
    for target, employee_id, status, code in cases:
        response = await respond(client, org, target, employee_id, answers)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        if employee_id != ada.id:
            assert employee_id in response.json()["error"]["message"]
    assert await _responses(client, org, survey) == []
    assert await event_data(client, org, "survey.response_submitted") == []


async def test_second_response_is_409_and_changes_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    ada, bob = await employees(container, org, 2)
    survey = await published_survey(client, org, [ada, bob])
    first = await respond(client, org, survey, ada.id, answers_for(survey, 4, 9, "Lyon"))
    assert first.status_code == 201
    second = await respond(client, org, survey, ada.id, answers_for(survey, 1, 0, "Paris"))
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "already_responded"
    assert error["details"]["response_id"] == first.json()["id"]
    assert await _responses(client, org, survey) == [first.json()]
    assert len(await event_data(client, org, "survey.response_submitted")) == 1


async def test_edit_replaces_answers_when_allowed(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    ada, bob = await employees(container, org, 2)
    survey = await published_survey(client, org, [ada, bob], allow_edits=True)
    first = await respond(client, org, survey, ada.id, answers_for(survey, 4, 9, "Lyon", ["Gym"]))
    assert first.status_code == 201
    edited = await respond(client, org, survey, ada.id, answers_for(survey, 2, 5, "Paris"))
    assert edited.status_code == 200, edited.text
    assert edited.json()["id"] == first.json()["id"]
    assert [a["value"] for a in edited.json()["answers"]] == [2, 5, "Paris"]
    assert edited.json()["submitted_at"] == first.json()["submitted_at"]

    (listed,) = await _responses(client, org, survey)
    assert listed == edited.json()
    events = await event_data(client, org, "survey.response_submitted")
    assert [e["response_id"] for e in events] == [first.json()["id"]] * 2
    assert [a["value"] for a in events[1]["answers"]] == [2, 5, "Paris"]
    got = await client.get(f"/api/v1/surveys/{survey['id']}", headers=bearer(org))
    assert (got.json()["responded"], got.json()["status"]) == (1, "published")

    # A bad edit keeps the earlier answers.
    bad = await respond(client, org, survey, ada.id, answers_for(survey, 9, 5, "Paris"))
    assert bad.status_code == 422
    assert await _responses(client, org, survey) == [listed]


async def test_responses_page(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    people = await employees(container, org, 5)
    survey = await published_survey(client, org, people)
    for person in people[:3]:
        response = await respond(client, org, survey, person.id, answers_for(survey, 4, 9, "Lyon"))
        assert response.status_code == 201
    first = await client.get(
        f"/api/v1/surveys/{survey['id']}/responses", params={"limit": 2}, headers=bearer(org)
    )
    assert first.json()["has_more"] is True
    rest = await client.get(
        f"/api/v1/surveys/{survey['id']}/responses",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=bearer(org),
    )
    assert rest.json()["has_more"] is False
    listed = [r["employee_id"] for r in first.json()["data"] + rest.json()["data"]]
    assert listed == [p.id for p in people[:3]]
