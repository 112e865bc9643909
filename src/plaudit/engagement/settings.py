"""Per-environment engagement settings: the monthly giving budget and onboarding offsets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from plaudit.domain.clock import Clock
from plaudit.domain.errors import ValidationFailed
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.database import Database
from plaudit.store.engagement_tables import engagement_settings

DEFAULT_ONBOARDING_OFFSETS = (1, 30, 90)
MAX_ONBOARDING_OFFSET = 3650
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class EngagementSettings:
    monthly_giving_budget: int | None  # points a giver may hand out per month; None = no cap
    onboarding_offsets_days: tuple[int, ...]
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "monthly_giving_budget": self.monthly_giving_budget,
            "onboarding_offsets_days": list(self.onboarding_offsets_days),
            "updated_at": self.updated_at,
        }


DEFAULTS = EngagementSettings(
    monthly_giving_budget=None, onboarding_offsets_days=DEFAULT_ONBOARDING_OFFSETS
)


def read_settings(conn: Connection, environment_id: str) -> EngagementSettings:
    row = conn.execute(
        select(engagement_settings).where(engagement_settings.c.environment_id == environment_id)
    ).first()
    if row is None:
        return DEFAULTS
    return EngagementSettings(
        monthly_giving_budget=row.monthly_giving_budget,
        onboarding_offsets_days=tuple(row.onboarding_offsets_days),
        updated_at=row.updated_at,
    )


class EngagementSettingsService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, environment_id: str) -> EngagementSettings:
        return await self._db.read_with(lambda conn: read_settings(conn, environment_id))

    async def update(
        self,
        environment_id: str,
        *,
        monthly_giving_budget: int | None = _UNSET,
        onboarding_offsets_days: Sequence[int] = _UNSET,
    ) -> EngagementSettings:
        """Change the given settings; the others keep their value."""
        budget = None if monthly_giving_budget is _UNSET else monthly_giving_budget
        if budget is not None and budget < 0:
            raise ValidationFailed(
                "monthly_giving_budget must be 0 or more (null for no cap)",
                details={"field": "monthly_giving_budget"},
            )
        offsets = (
            _checked_offsets(onboarding_offsets_days)
            if onboarding_offsets_days is not _UNSET
            else None
        )
        now = self._clock.now()

        def unit(conn: Connection) -> EngagementSettings:
            conn.execute(
                insert_or_ignore(conn, engagement_settings).values(
                    environment_id=environment_id,
                    monthly_giving_budget=None,
                    onboarding_offsets_days=list(DEFAULT_ONBOARDING_OFFSETS),
                    updated_at=now,
                )
            )
            changes: dict[str, Any] = {"updated_at": now}
            if monthly_giving_budget is not _UNSET:
                changes["monthly_giving_budget"] = monthly_giving_budget
            if offsets is not None:
                changes["onboarding_offsets_days"] = list(offsets)
            conn.execute(
                engagement_settings.update()
                .where(engagement_settings.c.environment_id == environment_id)
                .values(**changes)
            )
            return read_settings(conn, environment_id)

        return await self._db.write(unit)


def _checked_offsets(offsets: Sequence[int]) -> tuple[int, ...]:
    bad = [day for day in offsets if not 1 <= day <= MAX_ONBOARDING_OFFSET]
    if bad:
        raise ValidationFailed(
            f"onboarding_offsets_days must be between 1 and {MAX_ONBOARDING_OFFSET}",
            details={"field": "onboarding_offsets_days", "invalid": bad},
        )
    return tuple(sorted(set(offsets)))
