"""Routers that a request skips at the cost of one string comparison.

FastAPI matches a request against every route of every included router in turn, at
several microseconds a router even when none of its routes can match: a Connect read
passed some ten routers, an admin call up to thirty, before its own. A `GatedRouter`
first compares the request's path with the literal text all its routes' paths begin with
(`/connect/v1/campaigns`, say), a condition every match meets, and answers "no match"
at once when it differs. Include it without a prefix of the include's own (the text
is taken from the router's routes).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match, Route
from starlette.types import Scope


class GatedRouter(APIRouter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gate: tuple[int, str] = (-1, "")  # (routes seen, their common literal start)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not get_route_path(scope).startswith(self._literal_start()):
            return Match.NONE, {}
        return super().matches(scope)

    def _literal_start(self) -> str:
        seen, start = self._gate
        if seen != len(self.routes):
            start = _common_literal_start(self.routes)
            self._gate = (len(self.routes), start)
        return start


def _common_literal_start(routes: list[Any]) -> str:
    """The text every path a route here matches begins with: its path up to the first
    parameter, common to all routes; "" (no gate) for anything but plain routes."""
    if not routes or not all(isinstance(r, Route) for r in routes):
        return ""
    heads: list[str] = [r.path.split("{", 1)[0] for r in routes]
    # Character by character on purpose: `/api/v1/re` is a fine start for rewards and redemptions.
    return os.path.commonprefix(heads)  # noqa: RUF071
