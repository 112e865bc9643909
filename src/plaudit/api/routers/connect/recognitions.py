"""Recognitions given in the key's environment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query

from plaudit.api.connect.access import ConnectReader
from plaudit.api.connect.route import connect_router
from plaudit.api.connect.schemas import ConnectRecognition
from plaudit.api.dependencies import AppContainer
from plaudit.api.routers.connect.params import DEFAULT_LIMIT, Cursor, FilterId, Limit, PathId
from plaudit.api.schemas import ListResponse
from plaudit.engagement.recognition_queries import RecognitionFilter

router = connect_router(tags=["connect: recognitions"])


@router.get("/recognitions", summary="List recognitions, newest first")
async def list_recognitions(
    principal: ConnectReader,
    container: AppContainer,
    giver_id: FilterId = None,
    receiver_id: FilterId = None,
    since: Annotated[datetime | None, Query(description="Created at or after (RFC 3339)")] = None,
    until: Annotated[datetime | None, Query(description="Created before (RFC 3339)")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListResponse[ConnectRecognition]:
    page = await container.recognitions.list(
        principal.environment_id,
        RecognitionFilter(giver_id=giver_id, receiver_id=receiver_id, since=since, until=until),
        limit=limit,
        cursor=cursor,
    )
    return ListResponse[ConnectRecognition].of(page, ConnectRecognition.of)


@router.get("/recognitions/{recognition_id}", summary="One recognition")
async def get_recognition(
    recognition_id: PathId, principal: ConnectReader, container: AppContainer
) -> ConnectRecognition:
    found = await container.recognitions.get(principal.environment_id, recognition_id)
    return ConnectRecognition.of(found)
