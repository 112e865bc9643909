"""Definitions of the webhook event types, one module per area."""

from __future__ import annotations

from typing import Final

from plaudit.domain.event_catalog import EventType
from plaudit.domain.event_types.employees import EMPLOYEE_EVENT_TYPES
from plaudit.domain.event_types.incentives import INCENTIVE_EVENT_TYPES
from plaudit.domain.event_types.milestones import MILESTONE_EVENT_TYPES
from plaudit.domain.event_types.recognition import RECOGNITION_EVENT_TYPES
from plaudit.domain.event_types.rewards import REWARD_EVENT_TYPES
from plaudit.domain.event_types.surveys import SURVEY_EVENT_TYPES

ALL_EVENT_TYPES: Final[tuple[EventType, ...]] = (
    *RECOGNITION_EVENT_TYPES,
    *REWARD_EVENT_TYPES,
    *SURVEY_EVENT_TYPES,
    *MILESTONE_EVENT_TYPES,
    *INCENTIVE_EVENT_TYPES,
    *EMPLOYEE_EVENT_TYPES,
)

__all__ = ["ALL_EVENT_TYPES"]
