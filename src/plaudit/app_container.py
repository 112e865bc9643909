"""The services of one running process, wired together by `plaudit.app`."""

from __future__ import annotations

from dataclasses import dataclass

from plaudit.config import Settings
from plaudit.delivery.endpoints import EndpointService
from plaudit.delivery.handoff import Handoff
from plaudit.delivery.outbound_guard import OutboundPolicy
from plaudit.delivery.queries import DeliveryQueries
from plaudit.delivery.recovery import RecoveryService
from plaudit.delivery.wakeup import Wakeup
from plaudit.domain.clock import Clock
from plaudit.domain.event_catalog import EventCatalog
from plaudit.engagement.employee_import import EmployeeImporter
from plaudit.engagement.employees import EmployeeService
from plaudit.engagement.groups import GroupService
from plaudit.engagement.settings import EngagementSettingsService
from plaudit.events.log import EventLog
from plaudit.events.service import EventService
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
    wakeup: Wakeup
    handoff: Handoff
    outbound_policy: OutboundPolicy
    endpoints: EndpointService
    recovery: RecoveryService
    delivery_queries: DeliveryQueries
    # Engagement domain
    engagement_settings: EngagementSettingsService
    employees: EmployeeService
    employee_import: EmployeeImporter
    groups: GroupService
