"""Engagement settings of the caller's environment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import StrictModel

router = GatedRouter(
    prefix="/api/v1/engagement-settings",
    tags=["engagement settings"],
    responses=error_responses(401, 403),
)


class EngagementSettingsOut(BaseModel):
    monthly_giving_budget: int | None = Field(
        description="Points each employee may give per calendar month (UTC); null = no cap"
    )
    onboarding_offsets_days: list[int] = Field(
        description="Days after hire on which `milestone.onboarding` is raised"
    )
    updated_at: datetime | None


class EngagementSettingsPatch(StrictModel):
    monthly_giving_budget: int | None = Field(default=None, ge=0, le=10_000_000)
    onboarding_offsets_days: list[int] | None = Field(default=None, max_length=50)


@router.get("", summary="The environment's engagement settings")
async def get_settings(principal: AdminPrincipal, container: AppContainer) -> EngagementSettingsOut:
    found = await container.engagement_settings.get(principal.environment_id)
    return EngagementSettingsOut(**found.to_json())


@router.patch(
    "", summary="Change engagement settings", responses=error_responses(400, 413, 415, 422)
)
async def update_settings(
    body: EngagementSettingsPatch, principal: AdminPrincipal, container: AppContainer
) -> EngagementSettingsOut:
    changes: dict[str, Any] = {}
    if "monthly_giving_budget" in body.model_fields_set:
        changes["monthly_giving_budget"] = body.monthly_giving_budget
    if body.onboarding_offsets_days is not None:
        changes["onboarding_offsets_days"] = body.onboarding_offsets_days
    updated = await container.engagement_settings.update(principal.environment_id, **changes)
    return EngagementSettingsOut(**updated.to_json())
