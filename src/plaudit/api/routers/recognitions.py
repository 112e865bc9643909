"""Recognitions: award one (with optional badge and points), list them, read one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Header, Query, Response

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.recognition_schemas import Id, RecognitionIn, RecognitionOut
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.engagement.recognition_queries import RecognitionFilter
from plaudit.engagement.recognitions import AwardRequest
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(
    prefix="/api/v1/recognitions", tags=["recognitions"], responses=error_responses(401, 403)
)


@router.post(
    "",
    status_code=201,
    summary="Award a recognition",
    description=(
        "Recognizes one or more colleagues, optionally with a badge, a company value and "
        "points per receiver (counted against the giver's monthly giving budget). Raises "
        "`recognition.awarded`, `badge.given` per receiver when a badge is attached and "
        "`points.earned` per receiver when points are given. A repeated `Idempotency-Key` "
        "with the same body returns the first recognition (200, `Idempotent-Replayed: true`)."
    ),
    responses=error_responses(400, 409, 413, 415, 422),
)
async def award_recognition(
    body: RecognitionIn,
    principal: AdminPrincipal,
    container: AppContainer,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> RecognitionOut:
    award = await container.recognitions.award(
        principal.environment_id,
        AwardRequest(
            giver_id=body.giver_id,
            receiver_ids=tuple(body.receiver_ids),
            message=body.message,
            badge_id=body.badge_id,
            points=body.points,
            company_value=body.company_value,
        ),
        idempotency_key=idempotency_key,
    )
    if not award.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return RecognitionOut(**award.recognition.to_json())


@router.get("", summary="List recognitions, newest first", responses=error_responses(400, 422))
async def list_recognitions(
    principal: AdminPrincipal,
    container: AppContainer,
    giver_id: Annotated[Id | None, Query()] = None,
    receiver_id: Annotated[Id | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="Created at or after (RFC 3339)")] = None,
    until: Annotated[datetime | None, Query(description="Created before (RFC 3339)")] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[RecognitionOut]:
    page = await container.recognitions.list(
        principal.environment_id,
        RecognitionFilter(giver_id=giver_id, receiver_id=receiver_id, since=since, until=until),
        limit=limit,
        cursor=cursor,
    )
    return ListResponse[RecognitionOut].of(page, lambda r: RecognitionOut(**r.to_json()))


@router.get("/{recognition_id}", summary="One recognition", responses=error_responses(404))
async def get_recognition(
    recognition_id: str, principal: AdminPrincipal, container: AppContainer
) -> RecognitionOut:
    found = await container.recognitions.get(principal.environment_id, recognition_id)
    return RecognitionOut(**found.to_json())
