"""What progress changes announce: `program.milestone_reached` and `leaderboard.updated`.

* Milestones: a participant reaching a threshold in a period gets one row in
  `campaign_milestones` (its primary key is the once-only guarantee) and one event. A later
  correction that takes them back below does NOT retract it and does not raise it again
  when they climb back: the milestone was reached, and the receiver was told once. Their
  progress (read through the API) always shows the current attainment. A threshold with a
  reward also makes its payout then (`incentives.milestone_rewards`), kept the same way.
* Leaderboards: when a board's top N for a period changes, `leaderboard.updated` is raised
  at most once per board per `min_interval_s`. A change inside the interval marks the board
  `pending` with the period; `sweep_pending` (run by the incentives sweeper, and by the next
  change after the interval) announces the then-current top N if it still differs from the
  last one announced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from plaudit.domain.incentive_rules import (
    Ranked,
    attainment,
    milestones_reached,
    rank,
    top,
    weighted_attainment,
)
from plaudit.engagement.directory import load_employees
from plaudit.events.models import EventDraft, rfc3339
from plaudit.incentives.definition import ATTAINMENT, MilestoneDefinition
from plaudit.incentives.progress import LiveCampaign, all_values
from plaudit.ingest.transactions import decimal_text
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.engagement_tables import group_members
from plaudit.store.incentive_tables import campaign_milestones, leaderboards


def participant_attainment(
    campaign: LiveCampaign, values: Mapping[str, Decimal], who: str
) -> Decimal:
    """The weighted attainment of one participant from their metric values."""
    return weighted_attainment(
        [
            (attainment(values[m.key], campaign.target(who, m)), m.weight)
            for m in campaign.definition.metrics
        ]
    )


@dataclass(frozen=True, slots=True)
class Reached:
    """A threshold one participant reached for the first time in a period."""

    period_start: date
    employee_id: str
    milestone: MilestoneDefinition
    values: Mapping[str, Decimal]  # the metric values that reached it
    attainment: Decimal


MilestoneHook = Callable[[Connection, LiveCampaign, Reached, datetime], list[EventDraft]]


def ratio(value: Decimal) -> float:
    """An attainment as the events' RATIO number (4 decimals, never below 0)."""
    return float(max(value, Decimal(0)).quantize(Decimal("0.0001")))


def milestone_events(
    conn: Connection,
    campaign: LiveCampaign,
    touched: Iterable[tuple[date, str]],
    now: datetime,
    on_reached: MilestoneHook | None = None,
) -> list[EventDraft]:
    """`program.milestone_reached` for thresholds newly reached; `on_reached` (the milestone
    reward) runs for each, in this transaction, and its events follow the milestone's."""
    drafts: list[EventDraft] = []
    thresholds = {m.threshold_percent: m for m in campaign.definition.milestones}
    if not thresholds:
        return drafts
    zeros = {m.key: Decimal(0) for m in campaign.definition.metrics}
    touched = sorted(touched)
    values: dict[tuple[date, str], dict[str, Decimal]] = {}
    seen: set[tuple[date, str, str]] = set()
    for period_start in sorted({period for period, _ in touched}):
        who_here = sorted({who for period, who in touched if period == period_start})
        found = all_values(conn, campaign, period_start, who_here)
        values.update({(period_start, who): found.get(who, zeros) for who in who_here})
        t = campaign_milestones.c
        seen.update(
            (period_start, row.employee_id, row.threshold)
            for row in conn.execute(
                select(t.employee_id, t.threshold).where(
                    t.campaign_id == campaign.id,
                    t.period_start == period_start,
                    t.employee_id.in_(who_here),
                )
            )
        )
    for period_start, who in touched:
        achieved = participant_attainment(campaign, values[(period_start, who)], who)
        for threshold in milestones_reached(achieved, thresholds):
            if (period_start, who, decimal_text(threshold)) in seen:
                continue  # reached before: raised once, never again
            added = conn.execute(
                insert_or_ignore(conn, campaign_milestones).values(
                    campaign_id=campaign.id,
                    period_start=period_start,
                    employee_id=who,
                    threshold=decimal_text(threshold),
                    attainment=decimal_text(achieved),
                    reached_at=now,
                )
            )
            if added.rowcount != 1:
                continue
            milestone = thresholds[threshold]
            employee = load_employees(conn, campaign.environment_id, [who], require_active=False)
            amount = (
                None
                if milestone.amount is None
                else {
                    "amount": decimal_text(milestone.amount),
                    "currency": campaign.definition.currency,
                }
            )
            drafts.append(
                EventDraft(
                    type="program.milestone_reached",
                    data={
                        "campaign": campaign_ref(campaign),
                        "employee": employee[who].ref(),
                        "milestone": {
                            "threshold_percent": _number(threshold),
                            "reward": {"points": milestone.points, "amount": amount},
                        },
                        "attainment": ratio(achieved),
                        "reached_at": rfc3339(now),
                    },
                )
            )
            if on_reached is not None:
                values_now = values[(period_start, who)]
                reached = Reached(period_start, who, milestone, values_now, achieved)
                drafts += on_reached(conn, campaign, reached, now)
    return drafts


def campaign_ref(campaign: LiveCampaign) -> dict[str, Any]:
    return {"id": campaign.id, "name": campaign.definition.name}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def standings(
    conn: Connection, campaign: LiveCampaign, period_start: date, board: Any
) -> list[Ranked]:
    """The full ranking of a board for a period (participants without data rank at 0)."""
    who = set(campaign.participants)
    if board.group_id is not None:
        members = conn.execute(
            select(group_members.c.employee_id).where(group_members.c.group_id == board.group_id)
        )
        who &= {row.employee_id for row in members}
    values = all_values(conn, campaign, period_start)
    zeros = {m.key: Decimal(0) for m in campaign.definition.metrics}
    scores: dict[str, Decimal] = {}
    for employee_id in sorted(who):
        mine = values.get(employee_id, zeros)
        scores[employee_id] = (
            participant_attainment(campaign, mine, employee_id)
            if board.rank_by == ATTAINMENT
            else mine[board.rank_by]
        )
    return rank(scores)


def board_events(
    conn: Connection,
    campaign: LiveCampaign,
    periods: Iterable[date],
    now: datetime,
    *,
    only_pending: bool = False,
) -> list[EventDraft]:
    """Announce the campaign's boards whose top N changed in `periods` (or, sweeping, the
    pending ones). Board rows are locked first on PostgreSQL, so concurrent loads and
    sweepers take turns per board and read each other's committed progress."""
    drafts: list[EventDraft] = []
    query = select(leaderboards).where(leaderboards.c.campaign_id == campaign.id)
    if only_pending:
        query = query.where(leaderboards.c.pending.is_(True))
    query = query.order_by(leaderboards.c.id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=only_pending)
    for board in conn.execute(query).all():
        announced: dict[str, Any] = dict(board.announced)
        tops: dict[str, Any] = dict(announced.get("tops") or {})
        pending = set(announced.get("pending") or [])
        candidates = sorted(pending | (set() if only_pending else {str(p) for p in periods}))
        due = board.last_emitted_at is None or now - board.last_emitted_at >= timedelta(
            seconds=board.min_interval_s
        )
        emitted = False
        for period in candidates:
            current = [
                [e.rank, e.participant, decimal_text(e.value)]
                for e in top(
                    standings(conn, campaign, date.fromisoformat(period), board), board.top_n
                )
            ]
            if current == tops.get(period):
                pending.discard(period)
                continue
            if not due:
                pending.add(period)
                continue
            tops[period] = current
            pending.discard(period)
            emitted, due = True, False  # one event per board per interval
            drafts.append(_board_event(conn, campaign, board, current, now))
        conn.execute(
            leaderboards.update()
            .where(leaderboards.c.id == board.id)
            .values(
                announced={"tops": tops, "pending": sorted(pending)},
                pending=bool(pending),
                last_emitted_at=now if emitted else board.last_emitted_at,
            )
        )
    return drafts


def _board_event(
    conn: Connection, campaign: LiveCampaign, board: Any, current: list[Any], now: datetime
) -> EventDraft:
    people = load_employees(
        conn, campaign.environment_id, [entry[1] for entry in current], require_active=False
    )
    return EventDraft(
        type="leaderboard.updated",
        data={
            "leaderboard_id": board.id,
            "campaign": campaign_ref(campaign),
            "group_id": board.group_id,
            "top": [
                {"rank": r, "employee": people[who].ref(), "value": value}
                for r, who, value in current
            ],
            "updated_at": rfc3339(now),
        },
    )
