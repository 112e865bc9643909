"""Reading campaign results: a participant's progress, the participants, a leaderboard.

The admin API and Connect both read through here, so they never disagree. A read names a
period by its start date; without one it is the period running now, or the campaign's
first (not started yet) or last (over) period. Progress shows the current attainment even
when a correction took a participant back below a milestone already reached, and the
payout the rule gives for the numbers so far (`projected_payout`), rounded by the one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from plaudit.domain.clock import Clock
from plaudit.domain.errors import NotFound, ValidationFailed
from plaudit.domain.incentive_periods import Period
from plaudit.domain.incentive_rules import attainment, payout, top
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.directory import employee_refs
from plaudit.incentives.announcements import participant_attainment, shown_top, standings
from plaudit.incentives.campaign_cache import CampaignCache
from plaudit.incentives.progress import LiveCampaign, load_campaign, values_for
from plaudit.ingest.transactions import decimal_text
from plaudit.store.database import Database, NotBrief
from plaudit.store.incentive_tables import (
    campaign_milestones,
    campaign_participants,
    campaigns,
    leaderboards,
)
from plaudit.store.pagination import Cursor as PageCursor
from plaudit.store.pagination import Page, decode_cursor, encode_cursor


@dataclass(frozen=True, slots=True)
class Scope:
    environment_id: str
    campaign_id: str
    period: date | None = None  # a period's start date; None = the current one
    published: bool = False  # Connect's reads: a draft is not published, so it is absent


# Prebuilt: a Connect read runs these on every request, and building a statement anew
# costs more than running it.
_CAMPAIGN = select(campaigns).where(
    campaigns.c.id == bindparam("campaign_id"),
    campaigns.c.environment_id == bindparam("environment_id"),
)
_FIRST_BOARD = (
    select(leaderboards)
    .where(leaderboards.c.campaign_id == bindparam("campaign_id"))
    .order_by(leaderboards.c.id)
    .limit(1)
)
_BOARD = select(leaderboards).where(
    leaderboards.c.campaign_id == bindparam("campaign_id"),
    leaderboards.c.id == bindparam("leaderboard_id"),
)
# A brief read asks in one statement for the campaign's status and revision (a held
# campaign needs no more: the full row parses its definition) and the board's row, if any.
_BRIEF_COLUMNS = (
    campaigns.c.status.label("campaign_status"),
    campaigns.c.revision.label("campaign_revision"),
    leaderboards.c.id,
    leaderboards.c.group_id,
    leaderboards.c.rank_by,
    leaderboards.c.top_n,
    leaderboards.c.announced,
)
_BRIEF_CAMPAIGN = (
    campaigns.c.id == bindparam("campaign_id"),
    campaigns.c.environment_id == bindparam("environment_id"),
)
_BRIEF_FIRST_BOARD = (
    select(*_BRIEF_COLUMNS)
    .select_from(campaigns.outerjoin(leaderboards, leaderboards.c.campaign_id == campaigns.c.id))
    .where(*_BRIEF_CAMPAIGN)
    .order_by(leaderboards.c.id)
    .limit(1)
)
_BRIEF_BOARD = (
    select(*_BRIEF_COLUMNS)
    .select_from(
        campaigns.outerjoin(
            leaderboards,
            and_(
                leaderboards.c.campaign_id == campaigns.c.id,
                leaderboards.c.id == bindparam("leaderboard_id"),
            ),
        )
    )
    .where(*_BRIEF_CAMPAIGN)
)
# The most entries a brief read shows (each is an employee row read on the event loop).
_BRIEF_ENTRIES = 100


def campaign_of(conn: Connection, scope: Scope, cache: CampaignCache | None = None) -> LiveCampaign:
    row = _campaign_row(conn, scope)
    return load_campaign(conn, row) if cache is None else cache.of_row(conn, row)


def _campaign_row(conn: Connection, scope: Scope) -> Any:
    _refuse_unnamed(scope)
    row = conn.execute(
        _CAMPAIGN, {"campaign_id": scope.campaign_id, "environment_id": scope.environment_id}
    ).first()
    _refuse_absent(scope, None if row is None else row.status)
    return row


def _refuse_unnamed(scope: Scope) -> None:
    if not can_name_anything(scope.campaign_id):
        raise NotFound(f"no campaign {scope.campaign_id!r}", code="campaign_not_found")


def _refuse_absent(scope: Scope, status: str | None) -> None:
    if status is None or (scope.published and status == "draft"):
        raise NotFound(f"no campaign {scope.campaign_id}", code="campaign_not_found")


def period_of(campaign: LiveCampaign, wanted: date | None, now: datetime) -> Period:
    schedule = campaign.definition.schedule
    if wanted is not None:
        period = schedule.period_on(wanted)
        if period is None or period.start != wanted:
            raise ValidationFailed(
                f"{wanted} is not the start of one of the campaign's periods",
                code="unknown_period",
                details={"field": "period"},
            )
        return period
    today = now.astimezone(schedule.zone).date()
    day = min(max(today, schedule.start), schedule.end)
    found = schedule.period_on(day)
    assert found is not None
    return found


def progress_of(
    conn: Connection, campaign: LiveCampaign, period: Period, employee_id: str
) -> dict[str, Any]:
    if employee_id not in campaign.participants:
        raise NotFound(
            f"{employee_id} does not take part in {campaign.id}", code="participant_not_found"
        )
    definition = campaign.definition
    values = values_for(conn, campaign, period.start, employee_id)
    achieved = participant_attainment(campaign, values, employee_id)
    metrics = [
        {
            "key": m.key,
            "aggregation": m.aggregation,
            "value": decimal_text(values[m.key]),
            "target": decimal_text(campaign.target(employee_id, m)),
            "attainment": _ratio(attainment(values[m.key], campaign.target(employee_id, m))),
            "weight": decimal_text(m.weight),
        }
        for m in definition.metrics
    ]
    projected = payout(
        values[definition.payout.metric],
        achieved,
        definition.payout,
        definition.reward_type,
        definition.currency,
    )
    reached = conn.execute(
        select(campaign_milestones).where(
            campaign_milestones.c.campaign_id == campaign.id,
            campaign_milestones.c.period_start == period.start,
            campaign_milestones.c.employee_id == employee_id,
        )
    ).all()
    reached = sorted(reached, key=lambda r: (r.reached_at, Decimal(r.threshold)))
    employee = employee_refs(conn, campaign.environment_id, [employee_id])
    return {
        "campaign_id": campaign.id,
        "employee": employee[employee_id],
        "period": {"start": period.start, "end": period.end},
        "metrics": metrics,
        "attainment": _ratio(achieved),
        "milestones_reached": [
            {"threshold_percent": r.threshold, "reached_at": r.reached_at} for r in reached
        ],
        "projected_payout": _reward(definition.reward_type, definition.currency, projected),
    }


def _ratio(value: Decimal) -> str:
    return decimal_text(value.quantize(Decimal("0.0001")))


def _reward(reward_type: str, currency: str | None, amount: Decimal) -> dict[str, Any]:
    if reward_type == "points":
        return {"points": int(amount), "amount": None}
    return {"points": None, "amount": {"amount": f"{amount:f}", "currency": currency}}


def board_of(
    conn: Connection, campaign: LiveCampaign, period: Period, leaderboard_id: str | None
) -> dict[str, Any]:
    if leaderboard_id is None:
        board = conn.execute(_FIRST_BOARD, {"campaign_id": campaign.id}).first()
    elif not can_name_anything(leaderboard_id):
        raise NotFound("no such leaderboard in this campaign", code="leaderboard_not_found")
    else:
        board = conn.execute(
            _BOARD, {"campaign_id": campaign.id, "leaderboard_id": leaderboard_id}
        ).first()
    if board is None:
        raise NotFound("no such leaderboard in this campaign", code="leaderboard_not_found")
    # The top N the board keeps current; ranked in full only when it keeps none.
    kept = shown_top(board, period.start)
    if kept is None:
        ranked = top(standings(conn, campaign, period.start, board), board.top_n)
        kept = [[e.rank, e.participant, decimal_text(e.value)] for e in ranked]
    return _board_body(conn, campaign, period, board, kept)


def brief_board_of(
    conn: Connection,
    scope: Scope,
    cache: CampaignCache,
    leaderboard_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    """`board_of` over `campaign_of` in a brief read: what is not brief (loading the
    campaign, ranking every participant, a long top) raises `NotBrief`. Same answers and
    errors, in the same order (campaign, period, board)."""
    _refuse_unnamed(scope)
    if leaderboard_id is not None and not can_name_anything(leaderboard_id):
        raise NotBrief  # an error, answered by the full read
    params = {"campaign_id": scope.campaign_id, "environment_id": scope.environment_id}
    row: Any
    if leaderboard_id is None:
        row = conn.execute(_BRIEF_FIRST_BOARD, params).first()
    else:
        row = conn.execute(_BRIEF_BOARD, {**params, "leaderboard_id": leaderboard_id}).first()
    _refuse_absent(scope, None if row is None else row.campaign_status)
    campaign = cache.held(scope.campaign_id, row.campaign_revision)
    if campaign is None:
        raise NotBrief
    period = period_of(campaign, scope.period, now)
    if row.id is None:
        raise NotFound("no such leaderboard in this campaign", code="leaderboard_not_found")
    kept = shown_top(row, period.start)
    if kept is None or len(kept) > _BRIEF_ENTRIES:
        raise NotBrief
    return _board_body(conn, campaign, period, row, kept)


def _board_body(
    conn: Connection, campaign: LiveCampaign, period: Period, board: Any, kept: list[Any]
) -> dict[str, Any]:
    people = employee_refs(conn, campaign.environment_id, [who for _, who, _ in kept])
    return {
        "leaderboard_id": board.id,
        "campaign_id": campaign.id,
        "group_id": board.group_id,
        "rank_by": board.rank_by,
        "top_n": board.top_n,
        "period": {"start": period.start, "end": period.end},
        "entries": [
            {"rank": position, "employee": people[who], "value": value}
            for position, who, value in kept
        ],
    }


class Standings:
    """Read-only queries over campaign results."""

    def __init__(self, db: Database, clock: Clock, cache: CampaignCache | None = None) -> None:
        self._db = db
        self._now = clock.now
        self._cache = cache or CampaignCache()

    async def progress(self, scope: Scope, employee_id: str) -> dict[str, Any]:
        def unit(conn: Connection) -> dict[str, Any]:
            campaign = campaign_of(conn, scope, self._cache)
            period = period_of(campaign, scope.period, self._now())
            return progress_of(conn, campaign, period, employee_id)

        return await self._db.read_with(unit)

    async def participants(
        self, scope: Scope, *, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        def unit(conn: Connection) -> Page[dict[str, Any]]:
            campaign = campaign_of(conn, scope, self._cache)
            period = period_of(campaign, scope.period, self._now())
            query = select(campaign_participants.c.employee_id).where(
                campaign_participants.c.campaign_id == campaign.id
            )
            if cursor:  # decode_cursor refuses NUL
                query = query.where(
                    campaign_participants.c.employee_id > decode_cursor(cursor).after_id
                )
            ids = list(
                conn.execute(
                    query.order_by(campaign_participants.c.employee_id).limit(limit + 1)
                ).scalars()
            )
            more = len(ids) > limit
            shown = ids[:limit]
            items = [progress_of(conn, campaign, period, who) for who in shown]
            after = encode_cursor(PageCursor(shown[-1], "asc")) if more else None
            return Page(items=items, next_cursor=after)

        return await self._db.read_with(unit)

    async def leaderboard(self, scope: Scope, leaderboard_id: str | None) -> dict[str, Any]:
        # Most reads find the campaign held and a top the board keeps: a brief read.
        def brief(conn: Connection) -> dict[str, Any]:
            return brief_board_of(conn, scope, self._cache, leaderboard_id, self._now())

        def full(conn: Connection) -> dict[str, Any]:
            campaign = campaign_of(conn, scope, self._cache)
            period = period_of(campaign, scope.period, self._now())
            return board_of(conn, campaign, period, leaderboard_id)

        return await self._db.read_brief(brief, full)
