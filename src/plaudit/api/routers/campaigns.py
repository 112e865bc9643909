"""Incentive campaigns: definition, participants and targets, activation, closing."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Query, Response

from plaudit.api.auth import AdminPrincipal
from plaudit.api.connect.incentive_schemas import ConnectLeaderboard, ConnectProgress
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.incentive_schemas import (
    CampaignIn,
    CampaignOut,
    ParticipantsAddedOut,
    ParticipantsIn,
    ParticipantsRemovedOut,
    ParticipantsRemoveIn,
    TargetsIn,
    TargetsSetOut,
)
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.incentives.campaigns import TargetUpdate
from plaudit.incentives.standings import Scope
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(
    prefix="/api/v1/campaigns", tags=["incentive campaigns"], responses=error_responses(401, 403)
)
_WRITE_ERRORS = error_responses(400, 404, 409, 413, 415, 422)


@router.post("", status_code=201, summary="Create a campaign (draft)", responses=_WRITE_ERRORS)
async def create_campaign(
    body: CampaignIn, principal: AdminPrincipal, container: AppContainer
) -> CampaignOut:
    created = await container.campaigns.create(
        principal.environment_id, body.definition(), body.boards()
    )
    return CampaignOut(**created)


@router.get("", summary="List campaigns", responses=error_responses(400, 422))
async def list_campaigns(
    principal: AdminPrincipal,
    container: AppContainer,
    status: Literal["draft", "active", "closed"] | None = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[CampaignOut]:
    page = await container.campaigns.list(
        principal.environment_id, status=status, limit=limit, cursor=cursor
    )
    return ListResponse[CampaignOut].of(page, lambda c: CampaignOut(**c))


@router.get("/{campaign_id}", summary="One campaign", responses=error_responses(404))
async def get_campaign(
    campaign_id: str, principal: AdminPrincipal, container: AppContainer
) -> CampaignOut:
    return CampaignOut(**await container.campaigns.get(principal.environment_id, campaign_id))


@router.put(
    "/{campaign_id}", summary="Replace a draft campaign's definition", responses=_WRITE_ERRORS
)
async def replace_campaign(
    campaign_id: str, body: CampaignIn, principal: AdminPrincipal, container: AppContainer
) -> CampaignOut:
    replaced = await container.campaigns.replace(
        principal.environment_id, campaign_id, body.definition(), body.boards()
    )
    return CampaignOut(**replaced)


@router.post(
    "/{campaign_id}/participants",
    summary="Add employees, and groups (their active members, then followed)",
    responses=_WRITE_ERRORS,
)
async def add_participants(
    campaign_id: str, body: ParticipantsIn, principal: AdminPrincipal, container: AppContainer
) -> ParticipantsAddedOut:
    added = await container.campaigns.add_participants(
        principal.environment_id, campaign_id, body.employee_ids, body.group_ids, body.targets
    )
    return ParticipantsAddedOut(**added)


@router.post(
    "/{campaign_id}/participants/remove",
    summary="Remove participants by name and stop following groups (all or nothing)",
    responses=_WRITE_ERRORS,
)
async def remove_participants(
    campaign_id: str,
    body: ParticipantsRemoveIn,
    principal: AdminPrincipal,
    container: AppContainer,
) -> ParticipantsRemovedOut:
    removed = await container.participant_removal.remove(
        principal.environment_id, campaign_id, body.employee_ids, body.group_ids
    )
    return ParticipantsRemovedOut(**removed)


@router.delete(
    "/{campaign_id}/participants/{employee_id}",
    status_code=204,
    summary="Remove one participant (group changes do not bring them back)",
    responses=error_responses(404, 409),
)
async def remove_participant(
    campaign_id: str, employee_id: str, principal: AdminPrincipal, container: AppContainer
) -> Response:
    await container.participant_removal.remove(
        principal.environment_id, campaign_id, [employee_id], []
    )
    return Response(status_code=204)


@router.delete(
    "/{campaign_id}/groups/{group_id}",
    status_code=204,
    summary="Stop following a group: its members leave unless named or in another followed group",
    responses=error_responses(404, 409),
)
async def unfollow_group(
    campaign_id: str, group_id: str, principal: AdminPrincipal, container: AppContainer
) -> Response:
    await container.participant_removal.remove(
        principal.environment_id, campaign_id, [], [group_id]
    )
    return Response(status_code=204)


@router.put(
    "/{campaign_id}/targets",
    summary="Set per-participant targets in bulk",
    responses=_WRITE_ERRORS,
)
async def set_targets(
    campaign_id: str, body: TargetsIn, principal: AdminPrincipal, container: AppContainer
) -> TargetsSetOut:
    updated = await container.campaigns.set_targets(
        principal.environment_id,
        campaign_id,
        [TargetUpdate(t.employee_id, t.targets) for t in body.targets],
    )
    return TargetsSetOut(updated=updated)


@router.post("/{campaign_id}/activate", summary="Start a draft campaign", responses=_WRITE_ERRORS)
async def activate_campaign(
    campaign_id: str, principal: AdminPrincipal, container: AppContainer
) -> CampaignOut:
    return CampaignOut(**await container.campaigns.activate(principal.environment_id, campaign_id))


@router.post("/{campaign_id}/close", summary="Close an active campaign", responses=_WRITE_ERRORS)
async def close_campaign(
    campaign_id: str, principal: AdminPrincipal, container: AppContainer
) -> CampaignOut:
    return CampaignOut(**await container.campaigns.close(principal.environment_id, campaign_id))


PeriodParam = Annotated[
    date | None, Query(description="A period's first day; default: the period running now")
]


@router.get(
    "/{campaign_id}/participants",
    summary="Participants and their progress",
    responses=error_responses(400, 404, 422),
)
async def list_progress(
    campaign_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    period: PeriodParam = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[ConnectProgress]:
    scope = Scope(principal.environment_id, campaign_id, period)
    page = await container.standings.participants(scope, limit=limit, cursor=cursor)
    return ListResponse[ConnectProgress].of(page, ConnectProgress.of)


@router.get(
    "/{campaign_id}/participants/{employee_id}",
    summary="One participant's progress",
    responses=error_responses(404, 422),
)
async def get_progress(
    campaign_id: str,
    employee_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    period: PeriodParam = None,
) -> ConnectProgress:
    scope = Scope(principal.environment_id, campaign_id, period)
    return ConnectProgress.of(await container.standings.progress(scope, employee_id))


@router.get(
    "/{campaign_id}/leaderboards/{leaderboard_id}",
    summary="A leaderboard's standings",
    responses=error_responses(404, 422),
)
async def get_leaderboard(
    campaign_id: str,
    leaderboard_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    period: PeriodParam = None,
) -> ConnectLeaderboard:
    scope = Scope(principal.environment_id, campaign_id, period)
    return ConnectLeaderboard.of(await container.standings.leaderboard(scope, leaderboard_id))
