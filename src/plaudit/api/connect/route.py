"""The Connect router: every route authenticated and rate-limited, every GET cacheable.

`ConnectRoute` wraps each handler once: a 200 answer to a GET gets a strong `ETag` (a
digest of its body) and `Cache-Control: private, no-cache` (clients may keep it but must
revalidate); when the request's `If-None-Match` matches, the answer is `304 Not
Modified` with no body. The OpenAPI entries for all of that are added here too.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from enum import Enum
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from plaudit.api.auth import bearer
from plaudit.api.connect.access import connect_access
from plaudit.api.errors import error_responses
from plaudit.api.routing import GatedRouter
from plaudit.connect.etag import none_match, strong_etag

PREFIX = "/connect/v1"
CACHE_CONTROL = "private, no-cache"
_NOT_COPIED = frozenset({"content-length", "content-type"})

_RATE_HEADERS: dict[str, Any] = {
    "RateLimit-Limit": {
        "description": "Requests the key may make in a burst",
        "schema": {"type": "integer"},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current burst",
        "schema": {"type": "integer"},
    },
}
_CACHE_HEADERS: dict[str, Any] = {
    "ETag": {"description": "Strong entity tag of the body", "schema": {"type": "string"}},
    "Cache-Control": {"description": f"`{CACHE_CONTROL}`", "schema": {"type": "string"}},
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "Entity tags from earlier answers (or `*`): 304 when one still matches",
    "schema": {"type": "string"},
}


def _responses() -> dict[int | str, dict[str, Any]]:
    responses = error_responses(400, 401, 403, 404, 422, 429)
    responses[429] = {**responses[429], "headers": {
        "Retry-After": {
            "description": "Seconds to wait (an integer, at least 1)",
            "schema": {"type": "integer", "minimum": 1},
            "required": True,
        },
        **_RATE_HEADERS,
    }}  # fmt: skip
    responses[200] = {"headers": {**_CACHE_HEADERS, **_RATE_HEADERS}}
    responses[304] = {
        "description": "Not Modified: the `If-None-Match` tag is still current (no body)",
        "headers": _CACHE_HEADERS,
    }
    return responses


class ConnectRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # The bearer scheme as a dependency would document the security requirement;
        # the route runs the gate itself (see `access`), so it is documented here.
        extra = {**(kwargs.get("openapi_extra") or {}), "security": [{bearer.scheme_name: []}]}
        if "GET" in (kwargs.get("methods") or ()):
            extra["parameters"] = [_IF_NONE_MATCH]
        kwargs["openapi_extra"] = extra
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def conditional(request: Request) -> Response:
            rate_headers = await connect_access(request)
            response = await handler(request)
            response.headers.update(rate_headers)
            if request.method != "GET" or response.status_code != 200:
                return response
            etag = strong_etag(bytes(response.body))
            response.headers["ETag"] = etag
            response.headers["Cache-Control"] = CACHE_CONTROL
            if none_match(request.headers.getlist("if-none-match"), etag):
                headers = {
                    k: v for k, v in response.headers.items() if k.lower() not in _NOT_COPIED
                }
                return Response(status_code=304, headers=headers)
            return response

        return conditional


def connect_router(*, tags: list[str | Enum]) -> APIRouter:
    """A router under `/connect/v1` whose routes need a `connect:read` key."""
    return GatedRouter(
        prefix=PREFIX,
        tags=tags,
        route_class=ConnectRoute,
        responses=_responses(),
    )
