"""The incentive engine: subscribed to the TransactionLog, it moves campaign progress and
raises what follows from it, all inside the transaction that loads the data.

A hook that raises rolls the load back (the TransactionLog contract), so progress and the
transactions table never disagree. Parsed campaigns are held between batches
(`CampaignCache`), checked against the campaigns' revisions with one query per batch.
Milestones newly reached pay their reward (`pay_milestone`) in the same transaction,
whichever way they were reached: a load, a rebuild or participants joining.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from plaudit.domain.clock import Clock
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft
from plaudit.incentives.announcements import (
    Attainments,
    Scores,
    board_events,
    boards_of,
    forget_kept,
    milestone_events,
    save_boards,
)
from plaudit.incentives.campaign_cache import CampaignCache, bump_revision
from plaudit.incentives.milestone_rewards import pay_milestone
from plaudit.incentives.progress import (
    LiveCampaign,
    Moved,
    apply_batch,
    rebuild,
    rebuild_participants,
)
from plaudit.incentives.progress_rows import Touched
from plaudit.ingest.transactions import TransactionChange
from plaudit.store.incentive_tables import campaigns, leaderboards


class IncentiveEngine:
    def __init__(
        self, event_log: EventLog, clock: Clock, cache: CampaignCache | None = None
    ) -> None:
        self._event_log = event_log
        self._clock = clock
        self.campaigns = cache or CampaignCache()

    def __call__(self, conn: Connection, changes: Sequence[TransactionChange]) -> None:
        by_environment: dict[str, list[TransactionChange]] = defaultdict(list)
        for change in changes:
            by_environment[change.environment_id].append(change)
        for environment_id, batch in by_environment.items():
            held = self.campaigns.active(conn, environment_id)
            for revision, campaign in held:
                if not revision:  # from before live distinct values: rebuilt once, here
                    self.rebuild(conn, campaign.id)
                    bump_revision(conn, campaign.id, self._clock.now())
            live = [campaign for revision, campaign in held if revision]
            if not live:
                continue
            now = self._clock.now()
            moved = apply_batch(conn, live, batch, now)
            self._announce_moved(conn, environment_id, live, moved)

    def rebuild(self, conn: Connection, campaign_id: str) -> None:
        """Recompute an active campaign from the records and announce what follows."""
        campaign = self._load(conn, campaign_id)
        touched = rebuild(conn, campaign, self._clock.now())
        forget_kept(conn, campaign_id)
        self._announce_ranked(conn, campaign, touched)

    def refresh_participants(
        self, conn: Connection, campaign_id: str, employee_ids: Sequence[str]
    ) -> None:
        """Recompute the progress of employees who joined or left an active campaign, and
        announce what follows (their milestones; boards re-ranked without the leavers).
        The caller has bumped the campaign's revision, so it is loaded as it is now."""
        campaign = self._load(conn, campaign_id)
        now = self._clock.now()
        touched = rebuild_participants(conn, campaign, employee_ids, now)
        running = campaign.definition.schedule.period_at(now)
        if running is not None:  # someone at 0 can still hold a place on a short board
            touched |= {(campaign.id, running.start, who) for who in employee_ids}
        # The kept top N may hold a leaver, or miss a joiner, in any period: rank again.
        forget_kept(conn, campaign_id)
        self._announce_ranked(conn, campaign, touched)

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
            campaign = self._load(conn, campaign_id)
            drafts = board_events(conn, campaign, [], self._clock.now(), only_pending=True)
            self._store(conn, campaign.environment_id, drafts)
            count += len(drafts)
        return count

    def _load(self, conn: Connection, campaign_id: str) -> LiveCampaign:
        row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one()
        return self.campaigns.of_row(conn, row)

    def _announce_ranked(
        self, conn: Connection, campaign: LiveCampaign, touched: set[Touched]
    ) -> None:
        """Milestones of the touched participants, and their periods' boards ranked in full."""
        now = self._clock.now()
        mine = {(period, who) for _, period, who in touched}
        drafts = milestone_events(conn, campaign, mine, now, on_reached=pay_milestone)
        drafts += board_events(conn, campaign, {period for period, _ in mine}, now)
        self._store(conn, campaign.environment_id, drafts)

    def _announce_moved(
        self,
        conn: Connection,
        environment_id: str,
        live: Iterable[LiveCampaign],
        moved: Moved,
    ) -> None:
        now = self._clock.now()
        drafts: list[EventDraft] = []
        by_campaign: dict[str, list[Touched]] = defaultdict(list)
        for triple in moved.after:
            by_campaign[triple[0]].append(triple)
        touched = [campaign for campaign in live if by_campaign.get(campaign.id)]
        boards = boards_of(conn, [campaign.id for campaign in touched])
        saves: list[dict[str, Any]] = []
        shared = Attainments()
        for campaign in touched:
            scores = Scores(campaign, moved, by_campaign[campaign.id], shared)
            periods: set[date] = {period for _, period, _ in scores.touched}
            drafts += milestone_events(conn, campaign, [], now, scores, on_reached=pay_milestone)
            drafts += board_events(
                conn, campaign, periods, now, scores=scores, boards=boards[campaign.id], saves=saves
            )
        save_boards(conn, saves)
        self._store(conn, environment_id, drafts)

    def _store(self, conn: Connection, environment_id: str, drafts: list[EventDraft]) -> None:
        if drafts:
            self._event_log.store(conn, environment_id, self._event_log.prepare(drafts))
