"""Payouts: calculated once at period end, then approved (or revoked), then processed.

* `settle_due` (the workers' period-end run) claims each ended period of each active or
  closed campaign with a `campaign_settlements` row (insert-or-ignore on its primary key),
  so however many workers run it, one calculates. It computes every participant's payout
  from the live progress with the campaign's rule (gate, rule, cap, one rounding step);
  nothing is made for a payout of 0. It then pays the leaderboards' rank rewards from the
  final standings (`awards.rank_awards`). Every payout has a unique key (campaign, period,
  employee, kind, award key), a second guard besides the claim. Payouts are then
  `waiting_approval`, or approved at once when the campaign has `auto_approve`.
  Milestone rewards are made when the threshold is reached (`milestone_rewards`).
* Numbers are fixed when calculated: a correction loaded after the period was settled moves
  progress (and leaderboards) but not the payout; revoke it and pay by other means.
* Approving (one or many, all or nothing) credits points to the ledger (`points.earned`,
  reason `payout`) or, for cash, makes the approved payout the cash record for payroll;
  either way `incentive.payout_processed`. Only waiting payouts can be approved (409
  otherwise). Revoking, before or after approval, is `incentives.reversal`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from plaudit.domain.errors import Conflict, NotFound
from plaudit.domain.incentive_periods import Period
from plaudit.domain.incentive_rules import payout
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.directory import load_employees
from plaudit.engagement.ledger import points_earned, post_entry
from plaudit.events.models import EventDraft, rfc3339
from plaudit.incentives.announcements import participant_attainment, ratio
from plaudit.incentives.awards import WAITING, Award, rank_awards, record_award
from plaudit.incentives.progress import LiveCampaign, all_values, load_campaign
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.incentive_tables import campaign_payouts, campaign_settlements, campaigns

APPROVED = "approved"


def settle_due(conn: Connection, now: datetime) -> list[tuple[str, list[EventDraft]]]:
    """Calculate the payouts of every ended, unsettled period; returns events per env."""
    out: list[tuple[str, list[EventDraft]]] = []
    rows = conn.execute(
        select(campaigns)
        .where(campaigns.c.status.in_(["active", "closed"]))
        .order_by(campaigns.c.id)
    ).all()
    for row in rows:
        campaign = load_campaign(conn, row)
        for period in campaign.definition.schedule.periods_ended_by(now):
            drafts = _settle(conn, campaign, period, now)
            if drafts is not None:
                out.append((campaign.environment_id, drafts))
    return out


def _settle(
    conn: Connection, campaign: LiveCampaign, period: Period, now: datetime
) -> list[EventDraft] | None:
    claimed = conn.execute(
        insert_or_ignore(conn, campaign_settlements).values(
            campaign_id=campaign.id,
            period_start=period.start,
            period_end=period.end,
            settled_at=now,
            payout_count=0,
        )
    )
    if claimed.rowcount != 1:
        return None  # settled before, by this worker or another
    definition = campaign.definition
    ids: list[str] = []
    # Every participant's values in one read: a query each made a period of a large
    # campaign take minutes of the worker's time.
    everyone = all_values(conn, campaign, period.start)
    nothing = {metric.key: Decimal(0) for metric in definition.metrics}
    for who in sorted(campaign.participants):
        values = everyone.get(who, nothing)
        achieved = participant_attainment(campaign, values, who)
        value = values[definition.payout.metric]
        amount = payout(
            value, achieved, definition.payout, definition.reward_type, definition.currency
        )
        award = Award("period", "", definition.reward_type, amount, value, achieved)
        made = record_award(conn, campaign, period, who, award, now)
        ids += [made] if made else []
    ids += rank_awards(conn, campaign, period, now)
    conn.execute(
        campaign_settlements.update()
        .where(
            campaign_settlements.c.campaign_id == campaign.id,
            campaign_settlements.c.period_start == period.start,
        )
        .values(payout_count=len(ids))
    )
    if definition.auto_approve and ids:
        return approve(conn, campaign.environment_id, ids, now)
    return []


def _waiting(conn: Connection, environment_id: str, payout_ids: Sequence[str]) -> list[Any]:
    wanted = list(dict.fromkeys(payout_ids))
    query = select(campaign_payouts).where(
        campaign_payouts.c.environment_id == environment_id,
        campaign_payouts.c.id.in_([i for i in wanted if can_name_anything(i)]),
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # two approvals of one payout take turns
    rows = {row.id: row for row in conn.execute(query.order_by(campaign_payouts.c.id))}
    missing = [i for i in wanted if i not in rows]
    if missing:
        raise NotFound("unknown payouts", code="payout_not_found", details={"payout_ids": missing})
    decided = [i for i in wanted if rows[i].status != WAITING]
    if decided:
        raise Conflict(
            "only payouts waiting for approval can be approved",
            code="payout_decided",
            details={"payout_ids": decided},
        )
    return [rows[i] for i in wanted]


def approve(
    conn: Connection, environment_id: str, payout_ids: Sequence[str], now: datetime
) -> list[EventDraft]:
    rows = _waiting(conn, environment_id, payout_ids)
    people = load_employees(
        conn, environment_id, [r.employee_id for r in rows], require_active=False
    )
    drafts: list[EventDraft] = []
    for row in rows:
        employee = people[row.employee_id]
        entry_id = None
        if row.reward_type == "points":
            entry = post_entry(
                conn,
                employee,
                kind="earn",
                amount=row.points,
                reason="payout",
                now=now,
                source=("payout", row.id),
            )
            entry_id = entry.id
            drafts.append(points_earned(entry, employee))
        conn.execute(
            campaign_payouts.update()
            .where(campaign_payouts.c.id == row.id)
            .values(status=APPROVED, decided_at=now, point_entry_id=entry_id)
        )
        drafts.append(_processed(conn, row, employee.ref(), now))
    return drafts


def _processed(conn: Connection, row: Any, employee: Any, now: datetime) -> EventDraft:
    name = conn.execute(select(campaigns.c.name).where(campaigns.c.id == row.campaign_id))
    amount = None if row.amount is None else {"amount": row.amount, "currency": row.currency}
    return EventDraft(
        type="incentive.payout_processed",
        data={
            "payout_id": row.id,
            "campaign": {"id": row.campaign_id, "name": name.scalar_one()},
            "employee": employee,
            "period": {"start": row.period_start.isoformat(), "end": row.period_end.isoformat()},
            "reward_type": row.reward_type,
            "points": row.points,
            "amount": amount,
            "status": APPROVED,
            "attainment": ratio(Decimal(row.attainment)),
            "processed_at": rfc3339(now),
        },
    )
