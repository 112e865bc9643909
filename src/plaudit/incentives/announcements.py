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

Keeping boards current costs a batch only its touched participants: each board keeps, per
period, its current top N (what reads show) and the first top N + `_SPARE` entries with their
values (`announced.current`). Every participant left out is at or below the last kept value, so
after a batch the kept entries plus the touched participants rank exactly as everyone
would, as long as at least N of them are still above that value; otherwise (or with no
kept entries, or for a group's board, whose members may change) the board is ranked in
full. Participants joining or leaving (or a rebuild) drop what the boards keep
(`forget_kept`): the periods they touched are ranked in full at once, any other on its next
change or read. Milestones are looked for only where attainment went over a threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select

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
from plaudit.incentives.progress import LiveCampaign, Moved, all_values
from plaudit.incentives.progress_rows import Touched
from plaudit.ingest.transactions import decimal_text
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.engagement_tables import group_members
from plaudit.store.incentive_tables import campaign_milestones, leaderboards

_NO_TARGETS: Mapping[str, Decimal] = {}


def participant_attainment(
    campaign: LiveCampaign, values: Mapping[str, Decimal], who: str
) -> Decimal:
    """The weighted attainment of one participant from their metric values."""
    targets = campaign.participants.get(who, _NO_TARGETS)
    return weighted_attainment(
        (attainment(values[m.key], targets.get(m.key, m.target)), m.weight)
        for m in campaign.definition.metrics
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


class Attainments:
    """Attainments worked out in one batch, shared by its campaigns' `Scores`: a row moved
    as one with others (one number in `Moved.rows`) holds the same values, which give the
    same attainment under the same targets and weights (compared as text: 5E+4 is not
    50000 here, since the quotient's digits could differ)."""

    def __init__(self) -> None:
        self._rules: dict[tuple[tuple[str, str, str], ...], int] = {}
        self.done: tuple[dict[tuple[int, int, object], Decimal], ...] = ({}, {})

    def rules(self, campaign: LiveCampaign) -> int:
        """A number for the campaign's metric keys, default targets and weights."""
        rules = tuple((m.key, str(m.target), str(m.weight)) for m in campaign.definition.metrics)
        return self._rules.setdefault(rules, len(self._rules))


class Scores:
    """Attainments of a batch's touched participants, worked out once, when asked (with
    `shared`, once for the batch's campaigns)."""

    def __init__(
        self,
        campaign: LiveCampaign,
        moved: Moved,
        touched: Sequence[Touched] | None = None,
        shared: Attainments | None = None,
    ) -> None:
        self.campaign = campaign
        self.moved = moved
        self._shared = shared or Attainments()
        self._rules = self._shared.rules(campaign)
        self._participants, self._rows = campaign.participants, moved.rows
        mine = [t for t in moved.after if t[0] == campaign.id] if touched is None else touched
        self.touched = sorted(mine)
        self._done: tuple[dict[Touched, Decimal], dict[Touched, Decimal]] = ({}, {})
        self._by_period: dict[str, list[Touched]] = {}
        self._scores: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
        names: dict[date, str] = {}
        for triple in self.touched:
            period = names.get(triple[1])
            if period is None:
                period = names[triple[1]] = str(triple[1])
            self._by_period.setdefault(period, []).append(triple)

    def scores_in(self, period: str, rank_by: str) -> list[tuple[str, Decimal]]:
        """The touched participants of one period (its start as ISO text) with their values
        on a board ranking by `rank_by` after the batch, worked out once per board kind."""
        found = self._scores.get((period, rank_by))
        if found is None:
            touched = self._by_period.get(period, [])
            if rank_by == ATTAINMENT:
                found = [(t[2], self.attainment(t, after=True)) for t in touched]
            else:
                after = self.moved.after
                found = [(t[2], after[t][rank_by]) for t in touched]
            self._scores[(period, rank_by)] = found
        return found

    def attainment(self, triple: Touched, *, after: bool) -> Decimal:
        done = self._done[after]
        found = done.get(triple)
        if found is None:
            targets = self._participants.get(triple[2], _NO_TARGETS)
            own = tuple((k, str(v)) for k, v in targets.items()) if targets else ()
            key = (self._rows[triple], self._rules, own)
            shared = self._shared.done[after]
            found = shared.get(key)
            if found is None:
                values = (self.moved.after if after else self.moved.before)[triple]
                found = shared[key] = participant_attainment(self.campaign, values, triple[2])
            done[triple] = found
        return found


def ratio(value: Decimal) -> float:
    """An attainment as the events' RATIO number (4 decimals, never below 0)."""
    return float(max(value, Decimal(0)).quantize(Decimal("0.0001")))


def milestone_events(
    conn: Connection,
    campaign: LiveCampaign,
    touched: Iterable[tuple[date, str]],
    now: datetime,
    scores: Scores | None = None,
    *,
    on_reached: MilestoneHook | None = None,
) -> list[EventDraft]:
    """`program.milestone_reached` for thresholds newly reached by the touched participants.
    With the batch's `scores` only those whose attainment went over a threshold are looked
    at: one at or above it before the batch already has its row (reached once, never
    again). `on_reached` (the milestone reward) runs for each, in this transaction, and its
    events follow the milestone's."""
    drafts: list[EventDraft] = []
    thresholds = {m.threshold_percent: m for m in campaign.definition.milestones}
    if not thresholds:
        return drafts
    if scores is not None:
        ascending = sorted(thresholds)
        touched = [
            (triple[1], triple[2])
            for triple in scores.touched
            if _went_over(scores, triple, ascending)
        ]
        if not touched:
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


def _went_over(scores: Scores, triple: Touched, thresholds: Sequence[Decimal]) -> bool:
    """Whether the batch took a participant's attainment over a threshold (ascending)."""
    after = scores.attainment(triple, after=True) * 100
    if after < thresholds[0]:
        return False  # below every threshold: no need to know where it came from
    before = scores.attainment(triple, after=False) * 100
    return any(before < t <= after for t in thresholds)


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
    scores: Scores | None = None,
    boards: Sequence[Any] | None = None,
    saves: list[dict[str, Any]] | None = None,
) -> list[EventDraft]:
    """Bring the campaign's boards up to date for `periods` (with the batch's `scores`, from
    its touched participants; without, ranked in full) and announce those whose top N
    changed (or, sweeping, the pending ones). Board rows are locked first on PostgreSQL, so
    concurrent loads and sweepers take turns per board and read each other's committed
    progress. With `boards` (read by `boards_of`) they are not read again; with `saves`, their
    new states are added to it for `save_boards`, not written one by one."""
    drafts: list[EventDraft] = []
    if boards is None:
        query = _BOARDS[(conn.dialect.name == "postgresql", only_pending)]
        boards = conn.execute(query, {"b_campaign": campaign.id}).all()
    moved = sorted({str(p) for p in periods})
    for board in boards:
        announced: dict[str, Any] = dict(board.announced)
        tops: dict[str, Any] = dict(announced.get("tops") or {})
        pending = set(announced.get("pending") or [])
        current: dict[str, Any] = dict(announced.get("current") or {})
        for period in moved:
            current[period] = _kept(conn, campaign, board, period, current.get(period), scores)
        candidates = sorted(pending | (set() if only_pending else set(moved)))
        due = board.last_emitted_at is None or now - board.last_emitted_at >= timedelta(
            seconds=board.min_interval_s
        )
        emitted = False
        for period in candidates:
            if period not in current or (only_pending and board.group_id is not None):
                # (a group's members may have changed since: rank it again)
                current[period] = _kept(conn, campaign, board, period, None, None)
            shown = current[period]["top"]
            if shown == tops.get(period):
                pending.discard(period)
                continue
            if not due:
                pending.add(period)
                continue
            tops[period] = shown
            pending.discard(period)
            emitted, due = True, False  # one event per board per interval
            drafts.append(_board_event(conn, campaign, board, shown, now))
        state = {"tops": tops, "pending": sorted(pending), "current": current}
        if state != board.announced or emitted:
            save = {
                "b_id": board.id,
                "b_announced": state,
                "b_pending": bool(pending),
                "b_emitted": now if emitted else board.last_emitted_at,
            }
            if saves is None:
                conn.execute(_SAVE_BOARD, save)
            else:
                saves.append(save)
    return drafts


def boards_of(conn: Connection, campaign_ids: Sequence[str]) -> dict[str, list[Any]]:
    """The boards of several campaigns in one query, per campaign (on PostgreSQL locked in
    the order each campaign's own query takes them, campaign after campaign)."""
    if not campaign_ids:
        return {}
    query = _ALL_BOARDS[conn.dialect.name == "postgresql"]
    out: dict[str, list[Any]] = {campaign_id: [] for campaign_id in campaign_ids}
    for board in conn.execute(query, {"b_campaigns": list(campaign_ids)}).all():
        out[board.campaign_id].append(board)
    return out


def save_boards(conn: Connection, saves: Sequence[dict[str, Any]]) -> None:
    """Write the board states `board_events` gathered, in one statement."""
    if saves:
        conn.execute(_SAVE_BOARD, list(saves))


def _boards(locked: bool, only_pending: bool) -> Select[Any]:
    query = select(leaderboards).where(leaderboards.c.campaign_id == bindparam("b_campaign"))
    if only_pending:
        query = query.where(leaderboards.c.pending.is_(True))
    query = query.order_by(leaderboards.c.id)
    return query.with_for_update(skip_locked=only_pending) if locked else query


# Built once: a batch brings every board of the campaigns it touches up to date.
_BOARDS = {
    (locked, pending): _boards(locked, pending)
    for locked in (False, True)
    for pending in (False, True)
}
_ALL_BOARDS = {
    locked: (
        select(leaderboards)
        .where(leaderboards.c.campaign_id.in_(bindparam("b_campaigns", expanding=True)))
        .order_by(leaderboards.c.campaign_id, leaderboards.c.id)
    )
    for locked in (False, True)
}
_ALL_BOARDS[True] = _ALL_BOARDS[True].with_for_update()
_SAVE_BOARD = (
    leaderboards.update()
    .where(leaderboards.c.id == bindparam("b_id"))
    .values(
        announced=bindparam("b_announced"),
        pending=bindparam("b_pending"),
        last_emitted_at=bindparam("b_emitted"),
    )
)


# How many leading entries a board keeps per period beyond its top N: the room corrections
# have to push entries down before the board must be ranked in full again.
_SPARE = 20


def _kept(
    conn: Connection,
    campaign: LiveCampaign,
    board: Any,
    period: str,
    kept: Mapping[str, Any] | None,
    scores: Scores | None,
) -> dict[str, Any]:
    """A board's state for a period: {"top": top N as shown, "near": [[who, value]] the
    leading entries, everyone else at or below the last of them}."""
    start = date.fromisoformat(period)
    if kept is not None and scores is not None and board.group_id is None and kept["near"]:
        texts: dict[str, str] = dict(kept["near"])
        values = {who: Decimal(text) for who, text in texts.items()}
        floor = values[kept["near"][-1][0]]
        for who, score in scores.scores_in(period, board.rank_by):
            # Those below the floor would rank after everyone kept: leave them out.
            if score >= floor:
                values[who] = score
                texts[who] = decimal_text(score)
            elif who in values:
                del values[who]
        if sum(1 for v in values.values() if v > floor) >= board.top_n:
            return _state(rank(values), board.top_n, texts)
    return _state(standings(conn, campaign, start, board), board.top_n)


def _state(
    ranked: Sequence[Ranked], top_n: int, texts: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Exact top N, and the first top N + _SPARE entries (their order is exact). `texts`:
    the entries' values as decimal text, where known."""
    known = texts or {}

    def shown(e: Ranked) -> str:
        found = known.get(e.participant)
        return decimal_text(e.value) if found is None else found

    return {
        "top": [[e.rank, e.participant, shown(e)] for e in top(ranked, top_n)],
        "near": [[e.participant, shown(e)] for e in ranked[: top_n + _SPARE]],
    }


def shown_top(board: Any, period: date) -> list[Any] | None:
    """The top N a board keeps for a period ([[rank, who, value]]), if it keeps one."""
    if board.group_id is not None:
        return None
    kept = (board.announced.get("current") or {}).get(str(period))
    return None if kept is None else list(kept["top"])


def forget_kept(conn: Connection, campaign_id: str) -> None:
    """Drop what the campaign's boards keep (the progress was rebuilt under them)."""
    for board in conn.execute(
        select(leaderboards.c.id, leaderboards.c.announced).where(
            leaderboards.c.campaign_id == campaign_id
        )
    ).all():
        if board.announced.get("current"):
            conn.execute(
                leaderboards.update()
                .where(leaderboards.c.id == board.id)
                .values(announced={**board.announced, "current": {}})
            )


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
