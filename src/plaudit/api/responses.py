"""A JSON response rendered with orjson (datetimes as RFC 3339)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import Response


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except orjson.JSONEncodeError:
            # An error body echoing the client's input back (an integer beyond 64 bits,
            # say) is still JSON: render it the slow way rather than answer a 500.
            return json.dumps(content, default=str, separators=(",", ":")).encode()
