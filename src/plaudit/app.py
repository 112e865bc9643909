"""The composition root: the one place where parts are built and wired together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from plaudit import __version__
from plaudit.api.errors import install_error_handlers
from plaudit.api.middleware import BodyGuardMiddleware, RequestContextMiddleware
from plaudit.api.routers import event_types, events, health
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.clock import Clock, SystemClock
from plaudit.domain.event_catalog import default_catalog
from plaudit.events.log import EventLog
from plaudit.events.service import EventService
from plaudit.observability.metrics import Metrics
from plaudit.runtime.background import BackgroundRunner, BackgroundService
from plaudit.store import migrate
from plaudit.store.database import Database
from plaudit.tenancy.service import TenancyService

log = logging.getLogger("plaudit")


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    clock = clock or SystemClock()
    db = Database(settings.database_url.get_secret_value(), pool_size=settings.db_pool_size)
    catalog = default_catalog()
    event_log = EventLog(catalog, clock)
    return Container(
        settings=settings,
        clock=clock,
        db=db,
        metrics=Metrics(),
        catalog=catalog,
        event_log=event_log,
        tenancy=TenancyService(db, clock),
        events=EventService(db, event_log),
    )


def background_services(_container: Container) -> list[BackgroundService]:
    """The workers `serve` and `worker` run. Delivery and scheduling attach here."""
    return []


@asynccontextmanager
async def running(container: Container, *, with_workers: bool) -> AsyncIterator[Container]:
    """Migrate, start the background services, and on exit stop them and close the pools."""
    settings = container.settings
    if settings.migrate_on_start:
        await migrate.upgrade(container.db)
    runner = BackgroundRunner(background_services(container) if with_workers else [])
    runner.start()
    log.info(
        "plaudit started",
        extra={"database": settings.database_url_masked(), "workers": runner.service_names},
    )
    try:
        yield container
    finally:
        await runner.stop(settings.shutdown_grace_s)
        await container.db.dispose()
        log.info("plaudit stopped")


def create_app(
    settings: Settings, *, clock: Clock | None = None, with_workers: bool = True
) -> FastAPI:
    container = build_container(settings, clock=clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(container, with_workers=with_workers):
            yield

    app = FastAPI(
        title="Plaudit",
        version=__version__,
        description=(
            "Integration hub for employee engagement and incentive programs. "
            "Authenticate with `Authorization: Bearer <API key>`; errors are "
            '`{"error": {"code", "message", "details"}}`.'
        ),
        lifespan=lifespan,
    )
    app.state.container = container
    install_error_handlers(app)
    for router in (health.router, event_types.router, events.router):
        app.include_router(router)
    # Outermost last: the request context wraps the body guard so refusals are logged too.
    app.add_middleware(BodyGuardMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=container.metrics)
    return app
