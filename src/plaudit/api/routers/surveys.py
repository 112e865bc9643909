"""Surveys: drafts, publishing, responses, closing and results."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.api.survey_schemas import (
    PublishIn,
    ResponseIn,
    ResponseOut,
    ResultsOut,
    SurveyIn,
    SurveyOut,
    SurveyPatch,
)
from plaudit.engagement.surveys import SurveyDraft
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(
    prefix="/api/v1/surveys", tags=["surveys"], responses=error_responses(401, 403)
)
_WRITE_ERRORS = error_responses(400, 404, 409, 413, 415, 422)


@router.post("", status_code=201, summary="Create a draft survey", responses=_WRITE_ERRORS)
async def create_survey(
    body: SurveyIn, principal: AdminPrincipal, container: AppContainer
) -> SurveyOut:
    draft = SurveyDraft(
        title=body.title,
        description=body.description,
        questions=[question.spec() for question in body.questions],
        anonymous=body.anonymous,
        allow_edits=body.allow_edits,
        closes_at=body.closes_at,
    )
    view = await container.surveys.create(principal.environment_id, draft)
    return SurveyOut(**view.to_json())


@router.get("", summary="List surveys, newest first", responses=error_responses(400, 422))
async def list_surveys(
    principal: AdminPrincipal,
    container: AppContainer,
    status: Annotated[str | None, Query(description="draft, published or completed")] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[SurveyOut]:
    page = await container.surveys.list(
        principal.environment_id, status=status, limit=limit, cursor=cursor
    )
    return ListResponse[SurveyOut].of(page, lambda view: SurveyOut(**view.to_json()))


@router.get(
    "/{survey_id}", summary="One survey, with audience counts", responses=error_responses(404)
)
async def get_survey(
    survey_id: str, principal: AdminPrincipal, container: AppContainer
) -> SurveyOut:
    view = await container.surveys.get(principal.environment_id, survey_id)
    return SurveyOut(**view.to_json())


@router.patch(
    "/{survey_id}",
    summary="Change a draft (send only what changes); published surveys are frozen (409)",
    description=(
        "Sending `questions` replaces them all; a question keeps its id when it carries it."
    ),
    responses=_WRITE_ERRORS,
)
async def update_survey(
    survey_id: str, body: SurveyPatch, principal: AdminPrincipal, container: AppContainer
) -> SurveyOut:
    view = await container.surveys.update(principal.environment_id, survey_id, body.changes())
    return SurveyOut(**view.to_json())


@router.post(
    "/{survey_id}/publish",
    summary="Publish to employees and groups (raises `survey.published`)",
    description=(
        "The audience is the named employees (each must exist and be active) plus the "
        "active members of the named groups, resolved once, now."
    ),
    responses=_WRITE_ERRORS,
)
async def publish_survey(
    survey_id: str, body: PublishIn, principal: AdminPrincipal, container: AppContainer
) -> SurveyOut:
    view = await container.surveys.publish(
        principal.environment_id,
        survey_id,
        employee_ids=body.employee_ids,
        group_ids=body.group_ids,
    )
    return SurveyOut(**view.to_json())


@router.post(
    "/{survey_id}/close",
    summary="Stop collecting responses (raises `survey.completed`, reason `closed`)",
    responses=_WRITE_ERRORS,
)
async def close_survey(
    survey_id: str, principal: AdminPrincipal, container: AppContainer
) -> SurveyOut:
    view = await container.surveys.close(principal.environment_id, survey_id)
    return SurveyOut(**view.to_json())


@router.post(
    "/{survey_id}/responses",
    status_code=201,
    summary="Submit an employee's response (raises `survey.response_submitted`)",
    description=(
        "The employee must be active and in the survey's audience (409 `not_in_audience`). "
        "A second response is a 409 `already_responded`, unless the survey allows edits: "
        "then it replaces the answers of the first (same response id, status 200) and "
        "raises `survey.response_submitted` again. The response that leaves no active "
        "employee of the audience unanswered completes the survey (`survey.completed`, "
        "reason `all_responded`)."
    ),
    responses=_WRITE_ERRORS,
)
async def submit_response(
    survey_id: str,
    body: ResponseIn,
    principal: AdminPrincipal,
    container: AppContainer,
    response: Response,
) -> ResponseOut:
    submitted = await container.survey_responses.submit(
        principal.environment_id,
        survey_id,
        body.employee_id,
        [(answer.question_id, answer.value) for answer in body.answers],
    )
    if not submitted.created:
        response.status_code = 200
    return ResponseOut(**submitted.response.to_json())


@router.get(
    "/{survey_id}/responses",
    summary="Responses, oldest first (anonymous surveys: no employee ids)",
    responses=error_responses(400, 404, 422),
)
async def list_responses(
    survey_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[ResponseOut]:
    page = await container.survey_responses.list(
        principal.environment_id, survey_id, limit=limit, cursor=cursor
    )
    return ListResponse[ResponseOut].of(page, lambda item: ResponseOut(**item.to_json()))


@router.get(
    "/{survey_id}/results",
    summary="Aggregates over the responses so far: response rate, averages, eNPS",
    responses=error_responses(404),
)
async def survey_results(
    survey_id: str, principal: AdminPrincipal, container: AppContainer
) -> ResultsOut:
    view, results = await container.surveys.results(principal.environment_id, survey_id)
    return ResultsOut(survey_id=view.survey.id, status=view.survey.status, **results.to_json())
