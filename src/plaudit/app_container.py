"""The services of one running process, wired together by `plaudit.app`."""

from __future__ import annotations

from dataclasses import dataclass

from plaudit.config import Settings
from plaudit.connect.events_feed import EventsFeed
from plaudit.connect.rate_limit import TokenBuckets
from plaudit.delivery.endpoints import EndpointService
from plaudit.delivery.handoff import Handoff
from plaudit.delivery.outbound_rules import OutboundPolicy
from plaudit.delivery.queries import DeliveryQueries
from plaudit.delivery.recovery import RecoveryService
from plaudit.delivery.wakeup import Wakeup
from plaudit.domain.clock import Clock
from plaudit.domain.event_catalog import EventCatalog
from plaudit.engagement.badges import BadgeService
from plaudit.engagement.employee_import import EmployeeImporter
from plaudit.engagement.employees import EmployeeService
from plaudit.engagement.giving_budget import GivingBudgetService
from plaudit.engagement.groups import GroupService
from plaudit.engagement.milestones import MilestoneService
from plaudit.engagement.points import PointsService
from plaudit.engagement.recognitions import RecognitionService
from plaudit.engagement.redemptions import RedemptionService
from plaudit.engagement.rewards import RewardService
from plaudit.engagement.settings import EngagementSettingsService
from plaudit.engagement.shoutouts import ShoutoutService
from plaudit.engagement.survey_responses import SurveyResponseService
from plaudit.engagement.surveys import SurveyService
from plaudit.events.log import EventLog
from plaudit.events.retention import Retention
from plaudit.events.service import EventService
from plaudit.incentives.campaigns import CampaignService
from plaudit.incentives.engine import IncentiveEngine
from plaudit.incentives.membership import ParticipantRemoval
from plaudit.incentives.payout_service import PayoutService
from plaudit.incentives.standings import Standings
from plaudit.ingest.pipeline import IngestPipeline
from plaudit.ingest.rejects import IngestQueries
from plaudit.ingest.replay import Replayer
from plaudit.ingest.sources import SourceService
from plaudit.ingest.transactions import TransactionLog
from plaudit.observability.metrics import Metrics
from plaudit.store.database import Database
from plaudit.tenancy.service import TenancyService


@dataclass(slots=True)
class Container:
    settings: Settings
    clock: Clock
    db: Database
    metrics: Metrics
    catalog: EventCatalog
    operational_catalog: EventCatalog
    event_log: EventLog
    tenancy: TenancyService
    events: EventService
    retention: Retention
    wakeup: Wakeup
    handoff: Handoff
    outbound_policy: OutboundPolicy
    endpoints: EndpointService
    recovery: RecoveryService
    delivery_queries: DeliveryQueries
    # Engagement domain
    engagement_settings: EngagementSettingsService
    badges: BadgeService
    recognitions: RecognitionService
    giving_budget: GivingBudgetService
    shoutouts: ShoutoutService
    surveys: SurveyService
    survey_responses: SurveyResponseService
    milestones: MilestoneService
    points: PointsService
    rewards: RewardService
    redemptions: RedemptionService
    employees: EmployeeService
    employee_import: EmployeeImporter
    groups: GroupService
    # Connect API
    connect_limiter: TokenBuckets
    connect_events: EventsFeed
    # Inbound data
    transaction_log: TransactionLog
    ingest: IngestPipeline
    ingest_sources: SourceService
    ingest_queries: IngestQueries
    ingest_replay: Replayer
    # Incentive programs
    incentive_engine: IncentiveEngine
    campaigns: CampaignService
    participant_removal: ParticipantRemoval
    standings: Standings
    payouts: PayoutService
