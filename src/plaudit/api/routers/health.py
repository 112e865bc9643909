"""Liveness, readiness and Prometheus metrics (no authentication: keep them off the internet)."""

from __future__ import annotations

import logging

from starlette.responses import Response

from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import DATABASE_UNAVAILABLE_MESSAGE, error_response
from plaudit.api.routing import GatedRouter
from plaudit.observability.metrics import CONTENT_TYPE_LATEST

router = GatedRouter(tags=["operations"])
log = logging.getLogger("plaudit.health")


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable",
    responses={503: {"description": "The database cannot be reached"}},
)
async def readyz(container: AppContainer) -> Response:
    try:
        await container.db.ping()
    except Exception as exc:  # any driver error means "not ready"
        log.warning("database not reachable", extra={"error": repr(exc)})
        return error_response(503, "database_unavailable", DATABASE_UNAVAILABLE_MESSAGE)
    return Response(b'{"status":"ready"}', media_type="application/json")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(container: AppContainer) -> Response:
    return Response(container.metrics.render(), media_type=CONTENT_TYPE_LATEST)
