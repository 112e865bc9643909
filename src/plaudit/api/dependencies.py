"""FastAPI dependencies reaching the composition root's container."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from plaudit.app_container import Container


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


AppContainer = Annotated[Container, Depends(get_container)]
