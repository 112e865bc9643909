"""The incentive engine: subscribed to the TransactionLog, it moves campaign progress and
raises what follows from it, all inside the transaction that loads the data.

A hook that raises rolls the load back (the TransactionLog contract), so progress and the
transactions table never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, select

from plaudit.domain.clock import Clock
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft
from plaudit.incentives.announcements import board_events, milestone_events
from plaudit.incentives.milestone_rewards import pay_milestone
from plaudit.incentives.progress import (
    LiveCampaign,
    active_campaigns,
    apply_changes,
    load_campaign,
    rebuild,
    rebuild_participants,
)
from plaudit.ingest.transactions import TransactionChange
from plaudit.store.incentive_tables import campaigns, leaderboards


class IncentiveEngine:
    def __init__(self, event_log: EventLog, clock: Clock) -> None:
        self._event_log = event_log
        self._clock = clock

    def __call__(self, conn: Connection, changes: Sequence[TransactionChange]) -> None:
        by_environment: dict[str, list[TransactionChange]] = defaultdict(list)
        for change in changes:
            by_environment[change.environment_id].append(change)
        for environment_id, batch in by_environment.items():
            live = active_campaigns(conn, environment_id)
            if not live:
                continue
            now = self._clock.now()
            touched = apply_changes(conn, live, batch, now)
            self._announce(conn, environment_id, live, touched)

    def rebuild(self, conn: Connection, campaign_id: str) -> None:
        """Recompute an active campaign from the records and announce what follows."""
        row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one()
        campaign = load_campaign(conn, row)
        touched = rebuild(conn, campaign, self._clock.now())
        self._announce(conn, campaign.environment_id, [campaign], touched)

    def refresh_participants(
        self, conn: Connection, campaign_id: str, employee_ids: Sequence[str]
    ) -> None:
        """Recompute the progress of employees who joined or left an active campaign, and
        announce what follows (their milestones; boards re-ranked without the leavers)."""
        row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one()
        campaign = load_campaign(conn, row)
        now = self._clock.now()
        touched = rebuild_participants(conn, campaign, employee_ids, now)
        running = campaign.definition.schedule.period_at(now)
        if running is not None:  # someone at 0 can still hold a place on a short board
            touched |= {(campaign.id, running.start, who) for who in employee_ids}
        self._announce(conn, campaign.environment_id, [campaign], touched)

    def sweep_pending(self, conn: Connection) -> int:
        """Announce leaderboards whose changes waited for their interval; returns events."""
        ids = conn.execute(
            select(leaderboards.c.campaign_id)
            .where(leaderboards.c.pending.is_(True))
            .distinct()
            .order_by(leaderboards.c.campaign_id)
        ).all()
        count = 0
        for (campaign_id,) in ids:
            row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one()
            campaign = load_campaign(conn, row)
            drafts = board_events(conn, campaign, [], self._clock.now(), only_pending=True)
            self._store(conn, campaign.environment_id, drafts)
            count += len(drafts)
        return count

    def _announce(
        self,
        conn: Connection,
        environment_id: str,
        live: Sequence[LiveCampaign],
        touched: set[tuple[str, date, str]],
    ) -> None:
        now = self._clock.now()
        drafts: list[EventDraft] = []
        for campaign in live:
            mine = {(period, who) for cid, period, who in touched if cid == campaign.id}
            if not mine:
                continue
            drafts += milestone_events(conn, campaign, mine, now, on_reached=pay_milestone)
            drafts += board_events(conn, campaign, {period for period, _ in mine}, now)
        self._store(conn, environment_id, drafts)

    def _store(self, conn: Connection, environment_id: str, drafts: list[EventDraft]) -> None:
        if drafts:
            self._event_log.store(conn, environment_id, self._event_log.prepare(drafts))
