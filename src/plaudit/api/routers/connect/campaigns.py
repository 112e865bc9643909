"""Incentive campaigns, their leaderboards and participants' progress."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Query

from plaudit.api.connect.access import ConnectReader
from plaudit.api.connect.incentive_schemas import (
    ConnectCampaign,
    ConnectLeaderboard,
    ConnectProgress,
)
from plaudit.api.connect.route import connect_router
from plaudit.api.dependencies import AppContainer
from plaudit.api.routers.connect.params import DEFAULT_LIMIT, Cursor, FilterId, Limit, PathId
from plaudit.api.schemas import ListResponse
from plaudit.incentives.standings import Scope

router = connect_router(tags=["connect: incentive campaigns"])
PeriodParam = Annotated[
    date | None,
    Query(description="A period's first day; default: the period running now"),
]


@router.get("/campaigns", summary="List campaigns (active ones by default), oldest first")
async def list_campaigns(
    principal: ConnectReader,
    container: AppContainer,
    status: Literal["active", "closed"] = "active",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListResponse[ConnectCampaign]:
    page = await container.campaigns.list(
        principal.environment_id, status=status, limit=limit, cursor=cursor
    )
    return ListResponse[ConnectCampaign].of(page, ConnectCampaign.of)


@router.get("/campaigns/{campaign_id}", summary="One campaign")
async def get_campaign(
    campaign_id: PathId, principal: ConnectReader, container: AppContainer
) -> ConnectCampaign:
    return ConnectCampaign.of(
        await container.campaigns.get(principal.environment_id, campaign_id, published=True)
    )


@router.get("/campaigns/{campaign_id}/leaderboard", summary="A campaign's leaderboard")
async def get_leaderboard(
    campaign_id: PathId,
    principal: ConnectReader,
    container: AppContainer,
    leaderboard_id: FilterId = None,
    period: PeriodParam = None,
) -> ConnectLeaderboard:
    scope = Scope(principal.environment_id, campaign_id, period, published=True)
    return ConnectLeaderboard.of(await container.standings.leaderboard(scope, leaderboard_id))


@router.get(
    "/campaigns/{campaign_id}/participants", summary="Participants and their progress, by id"
)
async def list_participants(
    campaign_id: PathId,
    principal: ConnectReader,
    container: AppContainer,
    period: PeriodParam = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListResponse[ConnectProgress]:
    scope = Scope(principal.environment_id, campaign_id, period, published=True)
    page = await container.standings.participants(scope, limit=limit, cursor=cursor)
    return ListResponse[ConnectProgress].of(page, ConnectProgress.of)


@router.get("/campaigns/{campaign_id}/participants/{user_id}", summary="One participant's progress")
async def get_progress(
    campaign_id: PathId,
    user_id: PathId,
    principal: ConnectReader,
    container: AppContainer,
    period: PeriodParam = None,
) -> ConnectProgress:
    scope = Scope(principal.environment_id, campaign_id, period, published=True)
    return ConnectProgress.of(await container.standings.progress(scope, user_id))
