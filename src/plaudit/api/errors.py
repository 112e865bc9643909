"""Every error leaves as `{"error": {"code", "message", "details"}}` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from plaudit.api.responses import JsonResponse
from plaudit.domain.errors import (
    AuthenticationFailed,
    ClientError,
    Conflict,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    UnsupportedMediaType,
    ValidationFailed,
)
from plaudit.store.unavailable import DATABASE_ERRORS, database_unavailable

log = logging.getLogger("plaudit.api")

_STATUS: dict[type[ClientError], int] = {
    InvalidRequest: 400,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    ValidationFailed: 422,
    RateLimited: 429,
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def status_for(exc: ClientError) -> int:
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 400


DATABASE_UNAVAILABLE_MESSAGE = "the database cannot be reached"
DATABASE_RETRY_AFTER_S = 2


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JsonResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JsonResponse(body, status_code=status, headers=headers)


def _client_error(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, ClientError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationFailed) else None
    if isinstance(exc, RateLimited):
        headers = {**exc.headers, "Retry-After": str(exc.retry_after_s)}
    return error_response(status_for(exc), exc.code, exc.message, exc.details, headers)


def _validation_error(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (first.get("ctx") or {}).get("error", "not valid JSON")
        return error_response(400, "invalid_json", f"request body is not valid JSON: {reason}")
    details = [
        {"path": _path(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
        for e in errors
    ]
    first = details[0]
    return error_response(422, "validation_error", f"{first['path']}: {first['message']}", details)


def _path(loc: Any) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _http_error(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # FastAPI answers a body json.loads cannot decode (not UTF-8, nested too deeply,
        # a number too long to convert) with a bare 400: it is malformed JSON all the same.
        reason = (
            "it is not UTF-8"
            if isinstance(exc.__cause__, UnicodeDecodeError)
            else "it is nested too deeply"
            if isinstance(exc.__cause__, RecursionError)
            else "it cannot be decoded"
        )
        return error_response(400, "invalid_json", f"request body is not valid JSON: {reason}")
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404:
        message = "no such route"
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, message, headers=headers)


def _database_error(request: Request, exc: Exception) -> JsonResponse:
    if not database_unavailable(exc):
        return _unexpected(request, exc)
    # Not a bug: the database is down, restarting, out of connections or busy. The
    # client tries again.
    log.warning("database unavailable", extra={"path": request.url.path, "error": repr(exc)[:300]})
    return error_response(
        503,
        "database_unavailable",
        DATABASE_UNAVAILABLE_MESSAGE,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


def _unexpected(request: Request, exc: Exception) -> JsonResponse:
    # A 500 is a bug by definition: log it with everything needed to fix it.
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return error_response(500, "internal_error", "an internal error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ClientError, _client_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, _database_error)
    app.add_exception_handler(Exception, _unexpected)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error body for each status."""
    described = {
        400: "Malformed request (invalid JSON, bad event data, bad cursor)",
        401: "Missing, invalid or revoked API key",
        403: "The key lacks the needed scope",
        404: "No such resource in this environment",
        409: "Conflicts with the current state",
        413: "Body over the size limit",
        415: "Content type is not application/json",
        422: "A field breaks its rule (unknown field, wrong type, out of range)",
        429: "Over the API key's rate limit: retry after `Retry-After` seconds",
    }
    return {s: {"model": ErrorBody, "description": described[s]} for s in statuses}
