"""Messages (one per event and endpoint), resends, event replays and recovery jobs."""

from __future__ import annotations

from typing import Literal

from plaudit.api.auth import AdminPrincipal
from plaudit.api.delivery_schemas import JobOut, MessageDetailOut, MessageOut, ReplayIn, ReplayOut
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(prefix="/api/v1", tags=["messages"], responses=error_responses(401, 403))

MessageStatus = Literal["pending", "succeeded", "failed", "cancelled"]


@router.get("/messages", summary="List messages, newest first", responses=error_responses(400, 422))
async def list_messages(
    principal: AdminPrincipal,
    container: AppContainer,
    endpoint_id: str | None = None,
    event_id: str | None = None,
    status: MessageStatus | None = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[MessageOut]:
    page = await container.delivery_queries.messages(
        principal.environment_id,
        endpoint_id=endpoint_id,
        event_id=event_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    return ListResponse[MessageOut].of(page, lambda m: MessageOut(**m))


@router.get(
    "/messages/{message_id}", summary="A message with its attempts", responses=error_responses(404)
)
async def get_message(
    message_id: str, principal: AdminPrincipal, container: AppContainer
) -> MessageDetailOut:
    return MessageDetailOut(
        **await container.delivery_queries.message(principal.environment_id, message_id)
    )


@router.post(
    "/messages/{message_id}/resend",
    status_code=202,
    summary="Send a message again now (same webhook-id), starting a new retry series",
    responses=error_responses(404, 409),
)
async def resend_message(
    message_id: str, principal: AdminPrincipal, container: AppContainer
) -> dict[str, str]:
    await container.recovery.resend(principal.environment_id, message_id)
    return {"message_id": message_id, "status": "pending"}


@router.post(
    "/events/{event_id}/replay",
    status_code=202,
    summary="Deliver an event again, to one endpoint or to all subscribed endpoints",
    responses=error_responses(404, 415, 422),
)
async def replay_event(
    event_id: str, principal: AdminPrincipal, container: AppContainer, body: ReplayIn | None = None
) -> ReplayOut:
    ids = await container.recovery.replay_event(
        principal.environment_id, event_id, body.endpoint_id if body else None
    )
    return ReplayOut(message_ids=ids)


@router.get(
    "/jobs/{job_id}", summary="A background job and its progress", responses=error_responses(404)
)
async def get_job(job_id: str, principal: AdminPrincipal, container: AppContainer) -> JobOut:
    return JobOut(**(await container.recovery.job(principal.environment_id, job_id)).to_json())
