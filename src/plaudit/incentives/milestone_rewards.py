"""Milestone rewards: a threshold with a reward pays it when first reached.

Called for each threshold newly reached (see `announcements.milestone_events`), in the
transaction that records the milestone and raises `program.milestone_reached`. The payout
(kind `milestone`, key the threshold) follows the period payouts' approval: it waits for
approval, or is approved at once with the campaign's `auto_approve` (points credited,
`incentive.payout_processed`). The unique key makes it once per participant, period and
threshold. A correction taking the participant back below keeps the reward, as it keeps
the milestone; an admin can revoke it (or reverse it once approved).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from plaudit.events.models import EventDraft
from plaudit.incentives.announcements import Reached
from plaudit.incentives.awards import record_award, reward_award
from plaudit.incentives.payouts import approve
from plaudit.incentives.progress import LiveCampaign
from plaudit.ingest.transactions import decimal_text


def pay_milestone(
    conn: Connection, campaign: LiveCampaign, reached: Reached, now: datetime
) -> list[EventDraft]:
    milestone = reached.milestone
    definition = campaign.definition
    award = reward_award(
        campaign,
        "milestone",
        decimal_text(milestone.threshold_percent),
        (milestone.points, milestone.amount),
        reached.values[definition.payout.metric],
        reached.attainment,
    )
    if award is None:
        return []
    period = definition.schedule.period_on(reached.period_start)
    assert period is not None  # progress is only kept for the campaign's periods
    made = record_award(conn, campaign, period, reached.employee_id, award, now)
    if made is None or not definition.auto_approve:
        return []
    return approve(conn, campaign.environment_id, [made], now)
