"""Inbound sources: push URLs, verification, dedupe, templates, preview, rejects and replay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request, Response

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.ingest_schemas import (
    PreviewIn,
    ReceiptOut,
    RecordOut,
    ReplayIn,
    ReplayOut,
    RotateIn,
    SourceCreated,
    SourceIn,
    SourceOut,
    SourcePatch,
    TemplateVersionOut,
)
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.domain.errors import InvalidRequest
from plaudit.ingest.preview import preview
from plaudit.ingest.rejects import RecordFilter
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(
    prefix="/api/v1/sources", tags=["sources"], responses=error_responses(401, 403)
)
_WRITE_ERRORS = error_responses(400, 404, 413, 415, 422)


def _base(request: Request) -> str:
    return str(request.base_url)


@router.post("", status_code=201, summary="Create a source", responses=_WRITE_ERRORS)
async def create_source(
    body: SourceIn, request: Request, principal: AdminPrincipal, container: AppContainer
) -> SourceCreated:
    created = await container.ingest_sources.create(
        principal.environment_id,
        name=body.name,
        kind=body.kind,
        record_type=body.record_type,
        template=body.template,
        verification=body.verification,
        dedupe=body.dedupe,
    )
    shown = SourceOut.of(created.source, _base(request))
    return SourceCreated(**shown.model_dump(), secret=created.secret)


@router.get("", summary="List sources")
async def list_sources(
    request: Request,
    principal: AdminPrincipal,
    container: AppContainer,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[SourceOut]:
    page = await container.ingest_sources.list_sources(
        principal.environment_id, limit=limit, cursor=cursor
    )
    return ListResponse[SourceOut].of(page, lambda s: SourceOut.of(s, _base(request)))


@router.get("/{source_id}", summary="One source", responses=error_responses(404))
async def get_source(
    source_id: str, request: Request, principal: AdminPrincipal, container: AppContainer
) -> SourceOut:
    source = await container.ingest_sources.get(principal.environment_id, source_id)
    return SourceOut.of(source, _base(request))


@router.patch(
    "/{source_id}", summary="Rename, change the template (a new version), or dedupe",
    responses=_WRITE_ERRORS,
)  # fmt: skip
async def update_source(
    source_id: str,
    body: SourcePatch,
    request: Request,
    principal: AdminPrincipal,
    container: AppContainer,
) -> SourceOut:
    source = await container.ingest_sources.update(
        principal.environment_id,
        source_id,
        name=body.name,
        template=body.template,
        dedupe=body.dedupe,
    )
    return SourceOut.of(source, _base(request))


@router.post("/{source_id}/pause", summary="Hold new requests unprocessed", responses=_WRITE_ERRORS)
async def pause_source(
    source_id: str, request: Request, principal: AdminPrincipal, container: AppContainer
) -> SourceOut:
    source = await container.ingest_sources.pause(principal.environment_id, source_id)
    return SourceOut.of(source, _base(request))


@router.post(
    "/{source_id}/resume", summary="Resume and process held requests", responses=_WRITE_ERRORS
)
async def resume_source(
    source_id: str, request: Request, principal: AdminPrincipal, container: AppContainer
) -> SourceOut:
    source = await container.ingest_sources.resume(principal.environment_id, source_id)
    return SourceOut.of(source, _base(request))


@router.delete(
    "/{source_id}", status_code=204, summary="Delete a source", responses=error_responses(404)
)
async def delete_source(
    source_id: str, principal: AdminPrincipal, container: AppContainer
) -> Response:
    await container.ingest_sources.delete(principal.environment_id, source_id)
    return Response(status_code=204)


@router.post(
    "/{source_id}/rotate-secret",
    summary="New secret; the old one verifies for `overlap_s` more",
    responses=_WRITE_ERRORS,
)
async def rotate_secret(
    source_id: str,
    body: RotateIn,
    request: Request,
    principal: AdminPrincipal,
    container: AppContainer,
) -> SourceCreated:
    rotated = await container.ingest_sources.rotate_secret(
        principal.environment_id, source_id, overlap_s=body.overlap_s
    )
    shown = SourceOut.of(rotated.source, _base(request))
    return SourceCreated(**shown.model_dump(), secret=rotated.secret)


@router.get(
    "/{source_id}/templates", summary="Template versions, newest first",
    responses=error_responses(404),
)  # fmt: skip
async def template_versions(
    source_id: str, principal: AdminPrincipal, container: AppContainer
) -> list[TemplateVersionOut]:
    versions = await container.ingest_sources.template_versions(principal.environment_id, source_id)
    return [TemplateVersionOut(**v) for v in versions]


@router.post(
    "/{source_id}/preview",
    summary="Map a sample with the template (or a draft); stores nothing",
    responses=_WRITE_ERRORS,
)
async def preview_source(
    source_id: str, body: PreviewIn, principal: AdminPrincipal, container: AppContainer
) -> dict[str, Any]:
    source = await container.ingest_sources.get(principal.environment_id, source_id)
    return await preview(
        source, body.sample, template=body.template, content_type=body.content_type
    )


@router.get("/{source_id}/receipts", summary="Requests received, newest first")
async def list_receipts(
    source_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[ReceiptOut]:
    await container.ingest_sources.get(principal.environment_id, source_id)
    page = await container.ingest_queries.receipts(
        principal.environment_id, source_id, limit=limit, cursor=cursor
    )
    return ListResponse[ReceiptOut].of(page, lambda r: ReceiptOut(**r))


@router.get("/{source_id}/records", summary="Records, rejects by default, filtered")
async def list_records(
    source_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    status: Annotated[str | None, Query(pattern="^(loaded|rejected|duplicate|any)$")] = "rejected",
    stage: Annotated[str | None, Query(max_length=20)] = None,
    reason_code: Annotated[str | None, Query(max_length=60)] = None,
    request_id: Annotated[str | None, Query(max_length=40)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[RecordOut]:
    await container.ingest_sources.get(principal.environment_id, source_id)
    filters = RecordFilter(
        source_id=source_id,
        status=None if status == "any" else status,
        stage=stage,
        reason_code=reason_code,
        request_id=request_id,
        since=since,
        until=until,
    )
    page = await container.ingest_queries.records(
        principal.environment_id, filters, limit=limit, cursor=cursor
    )
    return ListResponse[RecordOut].of(page, lambda r: RecordOut(**r))


@router.post(
    "/{source_id}/replay",
    summary="Run rejects again with the current template",
    responses=_WRITE_ERRORS,
)
async def replay(
    source_id: str, body: ReplayIn, principal: AdminPrincipal, container: AppContainer
) -> ReplayOut:
    narrowed = body.record_ids is not None or any(
        v is not None for v in (body.stage, body.reason_code, body.request_id)
    )
    if narrowed == body.all:
        raise InvalidRequest(
            "name `record_ids` and/or a filter (stage, reason_code, request_id), or `all: true`",
            code="replay_scope",
        )
    filters = RecordFilter(
        source_id=source_id,
        stage=body.stage,
        reason_code=body.reason_code,
        request_id=body.request_id,
    )
    report = await container.ingest_replay.replay(
        principal.environment_id, filters, record_ids=body.record_ids
    )
    return ReplayOut(**report.to_json())
