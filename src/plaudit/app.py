"""The composition root: the one place where parts are built and wired together."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from plaudit import __version__
from plaudit.api.errors import install_error_handlers
from plaudit.api.middleware import BodyGuardMiddleware, RequestContextMiddleware
from plaudit.api.openapi import install_openapi
from plaudit.api.routers import (
    badges,
    campaigns,
    employees,
    endpoints,
    engagement_settings,
    event_types,
    events,
    giving_budget,
    groups,
    health,
    ingest,
    messages,
    payouts,
    points,
    receipts,
    recognitions,
    redemptions,
    rewards,
    shoutouts,
    sources,
    surveys,
)
from plaudit.api.routers.connect import ROUTERS as CONNECT_ROUTERS
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.connect.events_feed import EventsFeed
from plaudit.connect.rate_limit import TokenBuckets
from plaudit.delivery.backlog_sampler import BacklogSampler
from plaudit.delivery.claims import Claimer, ClaimLimits
from plaudit.delivery.dispatcher import Dispatcher, DispatcherSettings
from plaudit.delivery.endpoint_cache import EndpointCache
from plaudit.delivery.endpoints import EndpointService
from plaudit.delivery.fanout import FanOut
from plaudit.delivery.handoff import Handoff
from plaudit.delivery.http_client import OutboundClient
from plaudit.delivery.outbound_rules import OutboundPolicy
from plaudit.delivery.pg_listener import NotificationListener
from plaudit.delivery.queries import DeliveryQueries
from plaudit.delivery.recovery import JobRunner, RecoveryService
from plaudit.delivery.results import ResultWriter
from plaudit.delivery.wakeup import Wakeup
from plaudit.domain.clock import Clock, SystemClock
from plaudit.domain.event_catalog import EventCatalog, default_catalog
from plaudit.domain.event_types.operational import OPERATIONAL_EVENT_TYPES
from plaudit.engagement.badges import BadgeService
from plaudit.engagement.employee_import import EmployeeImporter
from plaudit.engagement.employees import EmployeeService
from plaudit.engagement.giving_budget import GivingBudgetService
from plaudit.engagement.groups import GroupService
from plaudit.engagement.milestone_sweeper import MilestoneSweeper
from plaudit.engagement.milestones import MilestoneService
from plaudit.engagement.points import PointsService
from plaudit.engagement.recognitions import RecognitionService
from plaudit.engagement.redemptions import RedemptionService
from plaudit.engagement.rewards import RewardService
from plaudit.engagement.roster_changes import RosterChanges
from plaudit.engagement.settings import EngagementSettingsService
from plaudit.engagement.shoutouts import ShoutoutService
from plaudit.engagement.survey_completion import SurveyDeadlineSweep
from plaudit.engagement.survey_responses import SurveyResponseService
from plaudit.engagement.surveys import SurveyService
from plaudit.events.log import EventLog
from plaudit.events.retention import Retention
from plaudit.events.retention_sweeper import RetentionSweeper
from plaudit.events.service import EventService
from plaudit.incentives.campaigns import CampaignService
from plaudit.incentives.engine import IncentiveEngine
from plaudit.incentives.membership import FollowMembership, ParticipantRemoval
from plaudit.incentives.payout_service import PayoutScheduler, PayoutService
from plaudit.incentives.standings import Standings
from plaudit.incentives.sweeper import LeaderboardSweeper
from plaudit.ingest.loaders.employee import EmployeeLoader
from plaudit.ingest.loaders.event import EventLoader
from plaudit.ingest.loaders.transaction import TransactionLoader
from plaudit.ingest.pipeline import IngestPipeline
from plaudit.ingest.recovery import IngestRecovery
from plaudit.ingest.rejects import IngestQueries
from plaudit.ingest.replay import Replayer
from plaudit.ingest.sources import SourceService
from plaudit.ingest.transactions import TransactionLog
from plaudit.observability.metrics import Metrics
from plaudit.runtime.background import BackgroundRunner, BackgroundService
from plaudit.store import migrate
from plaudit.store.database import Database
from plaudit.tenancy.service import TenancyService
from plaudit.transform.jsonata_engine import shutdown_workers as shutdown_template_workers

log = logging.getLogger("plaudit")
# A worker claims up to this many times an endpoint's concurrency, so the next claim
# lands before the local queue runs dry.
CLAIM_DEPTH = 8
SWITCH_INTERVAL_S = 0.0005


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    clock = clock or SystemClock()
    db = Database(settings.database_url.get_secret_value(), pool_size=settings.db_pool_size)
    catalog = default_catalog()
    operational = EventCatalog(OPERATIONAL_EVENT_TYPES)
    operational_names = frozenset(operational.names())
    event_log = EventLog(catalog, clock, operational=operational)
    wakeup = Wakeup()
    handoff = Handoff(lease=timedelta(seconds=settings.delivery_lease_s))
    event_log.subscribe(FanOut(wakeup, operational_names, handoff))
    policy = OutboundPolicy.from_settings(
        settings.outbound_allow_http, settings.outbound_allow_cidrs, settings.outbound_ca_bundle
    )
    if policy.allow_http:
        log.warning("PLAUDIT_OUTBOUND_ALLOW_HTTP is on: webhooks may travel unencrypted")
    roster = RosterChanges()
    employee_import = EmployeeImporter(db, clock, event_log, roster)
    transaction_log = TransactionLog()
    incentive_engine = IncentiveEngine(event_log, clock)
    transaction_log.subscribe(incentive_engine)
    roster.subscribe(FollowMembership(incentive_engine))
    pipeline = IngestPipeline(
        db,
        clock,
        {
            "transaction": TransactionLoader(transaction_log),
            "employee": EmployeeLoader(employee_import),
            "event": EventLoader(event_log),
        },
    )
    return Container(
        settings=settings,
        clock=clock,
        db=db,
        metrics=Metrics(),
        catalog=catalog,
        operational_catalog=operational,
        event_log=event_log,
        tenancy=TenancyService(db, clock),
        events=EventService(db, event_log),
        retention=Retention(db, clock, days=settings.retention_days),
        wakeup=wakeup,
        handoff=handoff,
        outbound_policy=policy,
        endpoints=EndpointService(db, clock, catalog, operational, event_log, wakeup, policy),
        recovery=RecoveryService(db, clock, wakeup, operational_names),
        delivery_queries=DeliveryQueries(db, clock),
        engagement_settings=EngagementSettingsService(db, clock),
        badges=BadgeService(db, clock),
        recognitions=RecognitionService(db, clock, event_log),
        giving_budget=GivingBudgetService(db, clock),
        shoutouts=ShoutoutService(db, clock, event_log),
        surveys=SurveyService(db, clock, event_log),
        survey_responses=SurveyResponseService(db, clock, event_log),
        milestones=MilestoneService(db, clock, event_log),
        points=PointsService(db, clock, event_log),
        rewards=RewardService(db, clock),
        redemptions=RedemptionService(db, clock, event_log),
        employees=EmployeeService(db, clock, event_log, roster),
        employee_import=employee_import,
        groups=GroupService(db, clock, roster),
        connect_limiter=TokenBuckets(
            settings.connect_rate_limit_per_s, settings.connect_rate_limit_burst
        ),
        connect_events=EventsFeed(db, exclude_types=operational_names),
        transaction_log=transaction_log,
        ingest=pipeline,
        ingest_sources=SourceService(db, clock, pipeline),
        ingest_queries=IngestQueries(db),
        ingest_replay=Replayer(db, pipeline),
        incentive_engine=incentive_engine,
        campaigns=CampaignService(db, clock, incentive_engine),
        participant_removal=ParticipantRemoval(db, clock, incentive_engine),
        standings=Standings(db, clock, incentive_engine.campaigns),
        payouts=PayoutService(db, clock, event_log),
    )


def build_dispatcher(container: Container, worker: str | None = None) -> Dispatcher:
    settings = container.settings
    policy = container.outbound_policy

    def http_client() -> OutboundClient:
        return OutboundClient(policy)

    return Dispatcher(
        claimer=Claimer(
            container.db,
            container.clock,
            ClaimLimits(
                batch=settings.delivery_max_in_flight,
                per_endpoint=settings.delivery_per_endpoint * CLAIM_DEPTH,
                lease=timedelta(seconds=settings.delivery_lease_s),
            ),
        ),
        writer=ResultWriter(
            container.db,
            container.clock,
            container.event_log,
            disable_after=timedelta(hours=settings.endpoint_disable_after_h),
            operational_types=frozenset(container.operational_catalog.names()),
        ),
        endpoints=EndpointCache(container.db),
        client_factory=http_client,
        clock=container.clock,
        wakeup=container.wakeup,
        metrics=container.metrics,
        settings=DispatcherSettings(
            max_in_flight=settings.delivery_max_in_flight,
            per_endpoint=settings.delivery_per_endpoint,
            claim_per_endpoint=settings.delivery_per_endpoint * CLAIM_DEPTH,
            poll_interval_s=settings.delivery_poll_interval_s,
        ),
        worker=worker,
    )


def background_services(container: Container) -> list[BackgroundService]:
    """The workers `serve` and `worker` run."""
    dispatcher = build_dispatcher(container)
    container.handoff.attach(dispatcher)
    services: list[BackgroundService] = [
        dispatcher,
        JobRunner(container.db, container.clock, container.wakeup, dispatcher.worker),
        BacklogSampler(container.delivery_queries, container.metrics),
        SurveyDeadlineSweep(container.db, container.clock, container.event_log),
        MilestoneSweeper(container.milestones, container.settings.milestones_interval_s),
        IngestRecovery(container.ingest),
        LeaderboardSweeper(
            container.db, container.incentive_engine, container.settings.leaderboards_interval_s
        ),
        PayoutScheduler(container.payouts, container.settings.payouts_interval_s),
        RetentionSweeper(
            container.retention, container.metrics, container.settings.retention_interval_s
        ),
    ]
    if container.db.dialect == "postgresql":
        services.append(NotificationListener(container.db.url, container.wakeup))
    return services


@asynccontextmanager
async def running(container: Container, *, with_workers: bool) -> AsyncIterator[Container]:
    """Migrate, start the background services, and on exit stop them and close the pools."""
    settings = container.settings
    if settings.migrate_on_start:
        await migrate.upgrade(container.db)
    runner = BackgroundRunner(background_services(container) if with_workers else [])
    runner.start()
    # Everything built so far lives as long as the process: keep it out of the cyclic
    # collector's full passes, which otherwise pause the event loop for tens of ms.
    gc.freeze()
    # Worker threads (the SQLite writer and readers) hand the GIL back sooner, so the event
    # loop never waits out CPython's default 5 ms switch interval behind one of them.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    log.info(
        "plaudit started",
        extra={"database": settings.database_url_masked(), "workers": runner.service_names},
    )
    try:
        yield container
    finally:
        await runner.stop(settings.shutdown_grace_s)
        await container.db.dispose()
        shutdown_template_workers()
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
    install_openapi(app)
    # Routes are matched in order, one router after another: the busiest paths (publishing
    # events, Connect reads) come first, so they are found after a few comparisons, not ~90.
    for router in (
        health.router,
        events.router,
        *CONNECT_ROUTERS,
        event_types.router,
        endpoints.router,
        messages.router,
        engagement_settings.router,
        badges.router,
        recognitions.router,
        giving_budget.router,
        shoutouts.router,
        surveys.router,
        points.router,
        rewards.router,
        redemptions.router,
        employees.router,
        groups.router,
        sources.router,
        receipts.router,
        ingest.router,
        campaigns.router,
        payouts.router,
    ):
        app.include_router(router)
    # Outermost last: the request context wraps the body guard so refusals are logged too.
    # /ingest/ reads its own body: any supported content type, its own size limit.
    app.add_middleware(
        BodyGuardMiddleware, max_bytes=settings.max_body_bytes, exempt_prefixes=("/ingest/",)
    )
    app.add_middleware(RequestContextMiddleware, metrics=container.metrics)
    return app
