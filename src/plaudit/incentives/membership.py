"""Participants leaving and following their groups (the rules are in `roster`).

* `ParticipantRemoval` is the admin API's: remove employees by name, stop following
  groups. Unknown participants or groups not followed are a 404 with nothing written.
* `FollowMembership` is subscribed to the engagement side's roster changes (group members
  added or removed, a group deleted, an employee activated or deactivated): it runs in the
  same transaction as that change.

Either way the campaign gets a new revision (`bump_revision`: held copies are stale), and in
an active campaign the progress of those who left is dropped (they stop
counting on boards, which are re-ranked and announced if their top N changed) and that of
those who joined is computed from the period's transactions already loaded. Period-end
payouts and rank rewards go to participants only. What was already made stays: payouts
(listed by employee), milestones reached and the events raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound
from plaudit.domain.text_rules import can_name_anything
from plaudit.incentives.campaign_cache import bump_revision
from plaudit.incentives.campaigns import campaign_row
from plaudit.incentives.engine import IncentiveEngine
from plaudit.incentives.roster import (
    REMOVED,
    campaigns_moved_by,
    depart,
    followed_groups,
    reconcile,
    unfollow,
)
from plaudit.store.database import Database
from plaudit.store.incentive_tables import campaign_participants


class ParticipantRemoval:
    def __init__(self, db: Database, clock: Clock, engine: IncentiveEngine) -> None:
        self._db = db
        self._clock = clock
        self._engine = engine

    async def remove(
        self,
        environment_id: str,
        campaign_id: str,
        employee_ids: Sequence[str],
        group_ids: Sequence[str],
    ) -> dict[str, Any]:
        """Remove employees by name and stop following groups; all or nothing."""
        now = self._clock.now()

        def unit(conn: Connection) -> dict[str, Any]:
            row = campaign_row(conn, environment_id, campaign_id)
            if row.status == "closed":
                raise Conflict("a closed campaign's participants are final", code="campaign_closed")
            present = {
                r.employee_id: r
                for r in conn.execute(
                    campaign_participants.select().where(
                        campaign_participants.c.campaign_id == campaign_id,
                        campaign_participants.c.employee_id.in_(
                            [e for e in employee_ids if can_name_anything(e)]
                        ),
                    )
                )
            }
            unknown = [e for e in dict.fromkeys(employee_ids) if e not in present]
            if unknown:
                raise NotFound(
                    f"not participants of campaign {campaign_id}: {', '.join(unknown)}",
                    code="participant_not_found",
                    details={"employee_ids": unknown},
                )
            followed = set(followed_groups(conn, campaign_id))
            unfollowed = [g for g in dict.fromkeys(group_ids) if g not in followed]
            if unfollowed:
                raise NotFound(
                    f"campaign {campaign_id} does not follow group {', '.join(unfollowed)}",
                    code="campaign_group_not_found",
                    details={"group_ids": unfollowed},
                )
            for participant in present.values():
                depart(conn, campaign_id, participant, REMOVED, now)
            left = set(present)
            if group_ids:
                members = unfollow(conn, campaign_id, group_ids)
                left |= set(reconcile(conn, environment_id, campaign_id, members, now))
            participants_changed(conn, self._engine, row, sorted(left), now)
            return {"removed": sorted(left), "group_ids": sorted(set(group_ids))}

        result: dict[str, Any] = await self._db.write(unit)
        return result


class FollowMembership:
    """The hook for group membership and status changes (see the module docstring)."""

    def __init__(self, engine: IncentiveEngine) -> None:
        self._engine = engine

    def __call__(
        self, conn: Connection, environment_id: str, employee_ids: Sequence[str], now: datetime
    ) -> None:
        if not employee_ids:
            return
        for row in campaigns_moved_by(conn, environment_id, employee_ids):
            moved = reconcile(conn, environment_id, row.id, employee_ids, now)
            if moved:
                participants_changed(conn, self._engine, row, moved, now)


def participants_changed(
    conn: Connection, engine: IncentiveEngine, row: Any, who: Sequence[str], now: datetime
) -> None:
    """After participants joined or left: a new revision (held copies of the campaign are
    stale), and in an active campaign their progress recomputed and the boards re-ranked."""
    bump_revision(conn, row.id, now)
    if who and row.status == "active":
        engine.refresh_participants(conn, row.id, who)
