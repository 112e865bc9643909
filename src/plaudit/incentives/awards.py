"""Payout records of every kind, and the rank rewards paid from a board's final standings.

A payout is once-only per (campaign, period, employee, kind, award key): the key is "" for
the period payout, the threshold for a milestone reward and the leaderboard id for a rank
reward. `record_award` inserts with ON CONFLICT DO NOTHING on that unique key, so a second
worker, a retried run or a re-crossed threshold finds the payout already there and makes
none.

Rank rewards (`rank_awards`, run in the period-end settlement): each board with rewards is
ranked from the final standings (competition ranking: tied participants share a rank and
each gets that rank's reward; the ranks a tie skips pay nobody). Someone with a value of 0
or less, i.e. nothing to show for the period, is never paid a rank reward. A per-group
board ranks, and so pays, that group's participants only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import Connection, select

from plaudit.domain.ids import new_id
from plaudit.domain.incentive_periods import Period
from plaudit.domain.incentive_rules import RewardType, round_reward
from plaudit.incentives.announcements import participant_attainment, standings
from plaudit.incentives.definition import RankReward, rank_rewards_of
from plaudit.incentives.progress import LiveCampaign, all_values
from plaudit.ingest.transactions import decimal_text
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.incentive_tables import campaign_payouts, leaderboards

PayoutKind = Literal["period", "milestone", "rank"]
WAITING = "waiting_approval"


@dataclass(frozen=True, slots=True)
class Award:
    kind: PayoutKind
    key: str  # "" | the milestone threshold | the leaderboard id
    reward_type: RewardType
    amount: Decimal  # points or money, already rounded by the one rule
    value: Decimal  # the payout metric's (or, for a rank, the board's) value
    attainment: Decimal
    rank: int | None = None


def reward_award(
    campaign: LiveCampaign,
    kind: PayoutKind,
    key: str,
    reward: tuple[int | None, Decimal | None],
    value: Decimal,
    achieved: Decimal,
    rank: int | None = None,
) -> Award | None:
    """The award of a fixed reward (points, or an amount in the campaign's currency)."""
    points, amount = reward
    if points is not None:
        return Award(kind, key, "points", Decimal(points), value, achieved, rank)
    if amount is None:
        return None
    currency = campaign.definition.currency
    rounded = round_reward(amount, "cash", currency)
    return Award(kind, key, "cash", rounded, value, achieved, rank)


def record_award(
    conn: Connection,
    campaign: LiveCampaign,
    period: Period,
    employee_id: str,
    award: Award,
    now: datetime,
) -> str | None:
    """Insert the payout, waiting for approval; None if it exists (or pays nothing)."""
    if award.amount <= 0:
        return None
    payout_id = new_id("pay")
    points = award.reward_type == "points"
    added = conn.execute(
        insert_or_ignore(conn, campaign_payouts).values(
            id=payout_id,
            environment_id=campaign.environment_id,
            campaign_id=campaign.id,
            employee_id=employee_id,
            period_start=period.start,
            period_end=period.end,
            status=WAITING,
            kind=award.kind,
            award_key=award.key,
            rank=award.rank,
            reward_type=award.reward_type,
            points=int(award.amount) if points else None,
            amount=None if points else f"{award.amount:f}",
            currency=None if points else campaign.definition.currency,
            value=decimal_text(award.value),
            attainment=decimal_text(award.attainment),
            calculated_at=now,
        )
    )
    return payout_id if added.rowcount == 1 else None


def rank_awards(
    conn: Connection, campaign: LiveCampaign, period: Period, now: datetime
) -> list[str]:
    """Pay every board's rank rewards from the period's final standings; returns ids."""
    boards = conn.execute(
        select(leaderboards)
        .where(leaderboards.c.campaign_id == campaign.id)
        .order_by(leaderboards.c.id)
    ).all()
    ids: list[str] = []
    values = None
    for board in boards:
        rewards = rank_rewards_of(board.rank_rewards)
        if not rewards:
            continue
        if values is None:
            values = all_values(conn, campaign, period.start)
        zeros = {m.key: Decimal(0) for m in campaign.definition.metrics}
        for entry in standings(conn, campaign, period.start, board):
            reward = _reward_for(rewards, entry.rank)
            if reward is None or entry.value <= 0:
                continue
            achieved = participant_attainment(
                campaign, values.get(entry.participant, zeros), entry.participant
            )
            award = reward_award(
                campaign,
                "rank",
                board.id,
                (reward.points, reward.amount),
                entry.value,
                achieved,
                entry.rank,
            )
            if award is not None:
                made = record_award(conn, campaign, period, entry.participant, award, now)
                ids += [made] if made else []
    return ids


def _reward_for(rewards: Sequence[RankReward], rank: int) -> RankReward | None:
    return next((r for r in rewards if r.first <= rank <= r.last), None)
