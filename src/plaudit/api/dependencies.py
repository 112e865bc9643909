"""FastAPI dependencies reaching the composition root's container."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from plaudit.app_container import Container


async def get_container(request: Request) -> Container:
    # async on purpose: FastAPI runs plain `def` dependencies in a thread pool, a thread
    # hop per request for an attribute read.
    container: Container = request.app.state.container
    return container


AppContainer = Annotated[Container, Depends(get_container)]
