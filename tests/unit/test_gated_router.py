"""A gated router answers "no match" from the literal start of its routes' paths alone,
and routes every path its routes match as a plain router does."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from plaudit.api.routing import GatedRouter, _common_literal_start


def test_the_gate_is_the_literal_text_all_route_paths_begin_with() -> None:
    router = GatedRouter(prefix="/api/v1")
    router.add_api_route("/rewards", lambda: None)
    router.add_api_route("/redemptions/{redemption_id}", lambda: None)
    assert _common_literal_start(router.routes) == "/api/v1/re"
    router.add_api_route("/{anything}", lambda: None)
    assert _common_literal_start(router.routes) == "/api/v1/"
    assert _common_literal_start([]) == ""
    assert _common_literal_start([*router.routes, Mount("/static", app=FastAPI())]) == ""


async def test_gated_routers_route_as_plain_ones() -> None:
    users, boards = GatedRouter(prefix="/v1/users"), GatedRouter(prefix="/v1")
    users.add_api_route("/{user_id}", lambda user_id: {"user": user_id})
    boards.add_api_route("/boards/{board_id}", lambda board_id: {"board": board_id})
    boards.add_api_route("/boards/", lambda: {"boards": []})
    app = FastAPI()
    app.include_router(users)
    app.include_router(boards)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/v1/users/u1")).json() == {"user": "u1"}
        assert (await client.get("/v1/boards/b1")).json() == {"board": "b1"}
        # The trailing-slash redirect still finds its route through the gate.
        redirected = await client.get("/v1/boards")
        assert redirected.status_code == 307
        assert redirected.headers["location"] == "http://test/v1/boards/"
        assert (await client.get("/v1/elsewhere")).status_code == 404
        assert (await client.post("/v1/users/u1")).status_code == 405
