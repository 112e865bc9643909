"""Parallel requests on one survey: it completes once, publishes once, counts a response once."""

from __future__ import annotations

import asyncio

import httpx

from plaudit.app_container import Container
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


async def test_parallel_last_responses_complete_exactly_once(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    people = await employees(container, org, 8)
    survey = await published_survey(client, org, people)
    responses = await asyncio.gather(
        *(
            respond(client, org, survey, person.id, answers_for(survey, 4, n % 11, "Lyon"))
            for n, person in enumerate(people)
        )
    )
    assert [r.status_code for r in responses] == [201] * len(people), [r.text for r in responses]
    completed = await event_data(client, org, "survey.completed")
    assert len(completed) == 1
    assert (completed[0]["reason"], completed[0]["responded"]) == ("all_responded", 8)
    assert len(await event_data(client, org, "survey.response_submitted")) == 8


async def test_parallel_close_and_last_response_complete_once(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    people = await employees(container, org, 2)
    survey = await published_survey(client, org, people)
    first = await respond(client, org, survey, people[0].id, answers_for(survey, 4, 9, "Lyon"))
    assert first.status_code == 201
    last, closed = await asyncio.gather(
        respond(client, org, survey, people[1].id, answers_for(survey, 4, 9, "Lyon")),
        client.post(f"/api/v1/surveys/{survey['id']}/close", headers=bearer(org)),
    )
    (event,) = await event_data(client, org, "survey.completed")
    if last.status_code == 201:
        # The response went first and completed the survey; the close found it done.
        assert closed.status_code == 409
        assert (event["reason"], event["responded"]) == ("all_responded", 2)
    else:
        assert last.status_code == 409
        assert closed.status_code == 200
        assert (event["reason"], event["responded"]) == ("closed", 1)


async def test_parallel_publishes_publish_once(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    people = await employees(container, org, 3)
    survey = await create_survey(client, org)
    results = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/surveys/{survey['id']}/publish",
                json={"employee_ids": [person.id]},
                headers=bearer(org),
            )
            for person in people
        )
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409]
    (event,) = await event_data(client, org, "survey.published")
    assert event["audience"]["employees"] == 1
    got = await client.get(f"/api/v1/surveys/{survey['id']}", headers=bearer(org))
    assert got.json()["targeted"] == 1


async def test_parallel_responses_of_one_employee_count_once(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    people = await employees(container, org, 2)
    survey = await published_survey(client, org, people)
    results = await asyncio.gather(
        *(
            respond(client, org, survey, people[0].id, answers_for(survey, rating, 9, "Lyon"))
            for rating in (1, 2, 3, 4)
        )
    )
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {
        "already_responded"
    }
    assert len(await event_data(client, org, "survey.response_submitted")) == 1
    listed = await client.get(f"/api/v1/surveys/{survey['id']}/responses", headers=bearer(org))
    assert len(listed.json()["data"]) == 1
