"""The real app on the session's real database, driven through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from plaudit.app import create_app
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.receiver import Receiver


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def container(app: FastAPI) -> Container:
    built: Container = app.state.container
    return built


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://plaudit.test") as http:
        yield http


@pytest.fixture
async def pg_plaudit(pg_url: str) -> AsyncIterator[Container]:
    """Plaudit on `pg_url`."""
    from tests.integration.delivery_helpers import own_plaudit  # it imports this module

    async with own_plaudit(pg_url) as container:
        yield container


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A plain-HTTP receiver on loopback (the session settings allow it)."""
    server = await Receiver().start()
    yield server
    await server.stop()


@pytest.fixture
async def org(container: Container) -> CreatedOrganization:
    return await container.tenancy.create_organization("Test Org")


def bearer(org: CreatedOrganization, env: Environment = Environment.PRODUCTION) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.keys[env].secret}"}
