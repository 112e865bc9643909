"""Pure ASGI middleware: request ids, access logs and metrics, body size and content type."""

from __future__ import annotations

import logging
import os
import random
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plaudit.observability.logs import request_id_var
from plaudit.observability.metrics import Metrics

log = logging.getLogger("plaudit.access")
# Request ids only correlate log lines: a seeded PRNG, not os.urandom (which releases the GIL).
_request_ids = random.Random(os.urandom(16))
os.register_at_fork(after_in_child=lambda: _request_ids.seed(os.urandom(16)))

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_PREFIXES = ("/api/", "/connect/")
# Routes that also take a CSV body (bulk imports).
_CSV_PATHS = frozenset({"/api/v1/employees/import"})


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"error": {"code": code, "message": message, "details": None}})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Gives every request an id (kept from `X-Request-Id` when sane), logs and measures it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = (
            incoming
            if incoming and len(incoming) <= 128 and incoming.isprintable()
            else f"{_request_ids.getrandbits(128):032x}"
        )
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            self.metrics.http_requests.labels(scope["method"], route_path, str(status)).inc()
            self.metrics.http_duration.labels(scope["method"], route_path).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


class BodyGuardMiddleware:
    """Refuses oversized (413) and non-JSON (415) bodies before any handler runs.

    The body is read here, at most `max_bytes` + 1 of it, and replayed to the app, so a
    client that lies about or omits Content-Length is still cut off.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _BODY_METHODS
            or (self.exempt_prefixes and scope["path"].startswith(self.exempt_prefixes))
        ):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_error(send, 413, "payload_too_large", self._too_large())
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_error(send, 413, "payload_too_large", self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if (
            body
            and scope["path"].startswith(_JSON_PREFIXES)
            and not _is_json(scope)
            and not (scope["path"] in _CSV_PATHS and _is_csv(scope))
        ):
            await _send_error(
                send,
                415,
                "unsupported_media_type",
                "send the body as content-type: application/json",
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"request body is larger than the limit of {self.max_bytes} bytes"


def _is_json(scope: Scope) -> bool:
    content_type = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _is_csv(scope: Scope) -> bool:
    content_type = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
    return content_type == "text/csv"


def _header(scope: Scope, name: bytes) -> str | None:
    headers: Any = scope.get("headers", [])
    for key, value in headers:
        if key == name:
            return bytes(value).decode("latin-1")
    return None
