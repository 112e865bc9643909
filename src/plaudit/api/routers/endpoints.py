"""Webhook endpoints: configuration, secrets, tests, recovery, attempts and statistics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Query, Response

from plaudit.api.auth import AdminPrincipal
from plaudit.api.delivery_schemas import (
    AttemptOut,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointStatsOut,
    JobOut,
    RecoverIn,
    RotatedOut,
    RotateIn,
    SecretOut,
    TestIn,
    TestOut,
)
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.delivery.endpoint_models import EndpointSpec
from plaudit.delivery.queries import AttemptFilter
from plaudit.domain.errors import InvalidRequest
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(
    prefix="/api/v1/endpoints", tags=["endpoints"], responses=error_responses(401, 403)
)
_WRITE_ERRORS = error_responses(400, 404, 413, 415, 422)


@router.post("", status_code=201, summary="Create an endpoint", responses=_WRITE_ERRORS)
async def create_endpoint(
    body: EndpointIn, principal: AdminPrincipal, container: AppContainer
) -> EndpointCreated:
    spec = EndpointSpec(
        url=body.url,
        description=body.description,
        event_types=tuple(body.event_types),
        headers=body.headers,
        rate_limit_per_s=body.rate_limit_per_s,
        timeout_s=body.timeout_s,
        fields=body.fields.as_config() if body.fields else None,
        template=body.template,
        retry_schedule=tuple(body.retry_schedule) if body.retry_schedule is not None else None,
        enabled=body.enabled,
        fifo=body.fifo,
    )
    endpoint, secret = await container.endpoints.create(principal.environment_id, spec, body.secret)
    return EndpointCreated(**endpoint.to_json(), secret=secret)


@router.get("", summary="List endpoints", responses=error_responses(400, 422))
async def list_endpoints(
    principal: AdminPrincipal,
    container: AppContainer,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[EndpointOut]:
    page = await container.endpoints.list(principal.environment_id, limit=limit, cursor=cursor)
    return ListResponse[EndpointOut].of(page, lambda e: EndpointOut(**e.to_json()))


@router.get("/{endpoint_id}", summary="One endpoint", responses=error_responses(404))
async def get_endpoint(
    endpoint_id: str, principal: AdminPrincipal, container: AppContainer
) -> EndpointOut:
    endpoint = await container.endpoints.get(principal.environment_id, endpoint_id)
    return EndpointOut(**endpoint.to_json())


@router.patch(
    "/{endpoint_id}",
    summary="Update an endpoint (send only what changes; `enabled: true` re-enables)",
    responses=_WRITE_ERRORS,
)
async def update_endpoint(
    endpoint_id: str, body: EndpointPatch, principal: AdminPrincipal, container: AppContainer
) -> EndpointOut:
    endpoint = await container.endpoints.update(
        principal.environment_id, endpoint_id, body.changes()
    )
    return EndpointOut(**endpoint.to_json())


@router.delete(
    "/{endpoint_id}", status_code=204, summary="Delete an endpoint", responses=error_responses(404)
)
async def delete_endpoint(
    endpoint_id: str, principal: AdminPrincipal, container: AppContainer
) -> Response:
    await container.endpoints.delete(principal.environment_id, endpoint_id)
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/secret", summary="The current signing secret", responses=error_responses(404)
)
async def get_secret(
    endpoint_id: str, principal: AdminPrincipal, container: AppContainer
) -> SecretOut:
    return SecretOut(secret=await container.endpoints.secret(principal.environment_id, endpoint_id))


@router.post(
    "/{endpoint_id}/secret/rotate",
    summary="Rotate the signing secret; the old one keeps signing during the overlap",
    responses=_WRITE_ERRORS,
)
async def rotate_secret(
    endpoint_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    body: RotateIn | None = None,
) -> RotatedOut:
    body = body or RotateIn()
    secret, until = await container.endpoints.rotate_secret(
        principal.environment_id,
        endpoint_id,
        overlap=timedelta(seconds=body.overlap_s),
        secret=body.secret,
    )
    return RotatedOut(secret=secret, previous_valid_until=until)


@router.post(
    "/{endpoint_id}/test",
    status_code=202,
    summary="Send the catalog example of an event type to this endpoint, marked as a test",
    responses=_WRITE_ERRORS,
)
async def send_test(
    endpoint_id: str, body: TestIn, principal: AdminPrincipal, container: AppContainer
) -> TestOut:
    sent = await container.endpoints.send_test(
        principal.environment_id, endpoint_id, body.event_type
    )
    return TestOut(event_id=sent.event_id, message_id=sent.message_id)


@router.post(
    "/{endpoint_id}/recover",
    status_code=202,
    summary="Resend every failed message since a time (a background job)",
    responses=_WRITE_ERRORS,
)
async def recover(
    endpoint_id: str, body: RecoverIn, principal: AdminPrincipal, container: AppContainer
) -> JobOut:
    _aware(body.since, "since")
    if body.until is not None:
        _aware(body.until, "until")
    job = await container.recovery.start_recovery(
        principal.environment_id, endpoint_id, body.since, body.until
    )
    return JobOut(**job.to_json())


@router.get(
    "/{endpoint_id}/attempts",
    summary="Delivery attempts, newest first",
    responses=error_responses(400, 404, 422),
)
async def list_attempts(
    endpoint_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    outcome: str | None = None,
    status_code: Annotated[int | None, Query(ge=100, le=599)] = None,
    message_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[AttemptOut]:
    for value, name in ((since, "since"), (until, "until")):
        if value is not None:
            _aware(value, name)
    page = await container.delivery_queries.attempts(
        principal.environment_id,
        endpoint_id,
        AttemptFilter(outcome, status_code, since, until, message_id),
        limit=limit,
        cursor=cursor,
    )
    return ListResponse[AttemptOut].of(page, lambda a: AttemptOut(**a))


@router.get(
    "/{endpoint_id}/stats",
    summary="Success rate, latency and backlog",
    responses=error_responses(404, 422),
)
async def endpoint_stats(
    endpoint_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    window_s: Annotated[int, Query(ge=60, le=30 * 86_400)] = 86_400,
) -> EndpointStatsOut:
    stats = await container.delivery_queries.endpoint_stats(
        principal.environment_id, endpoint_id, timedelta(seconds=window_s)
    )
    return EndpointStatsOut(**stats)


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None:
        raise InvalidRequest(f"`{name}` needs a time zone (e.g. ...Z)", code="invalid_time")
