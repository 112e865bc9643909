"""Who takes part in a campaign: employees named, members of followed groups, and who left.

* A participant row's `group_id` is None when the employee was named (they stay whatever
  their groups do), else a followed group they are a member of.
* A group added to a campaign is followed (`campaign_groups`): an active employee who joins
  it later becomes a participant (with the targets the group was added with), one who
  leaves it stops being one unless named or still in another followed group.
* A deactivated employee stops taking part; reactivated, they are back (named ones with
  their targets; group ones while still members). Parked in `campaign_departures` as
  `deactivated` meanwhile.
* An employee removed by name is parked as `removed`: group changes never bring them back;
  naming them again (or adding a group they are in) does.

Only draft and active campaigns move; a closed campaign's participants are final.
`reconcile` is the one place that applies these rules, in the caller's transaction; it
returns who joined or left, for the engine to recompute.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, or_, select, union

from plaudit.engagement.directory import load_employees
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.engagement_tables import group_members, groups
from plaudit.store.incentive_tables import (
    campaign_departures,
    campaign_groups,
    campaign_participants,
    campaigns,
)

REMOVED = "removed"
DEACTIVATED = "deactivated"
MOVING = ("draft", "active")


def follow_groups(
    conn: Connection,
    campaign_id: str,
    group_ids: Sequence[str],
    targets: Mapping[str, str],
    now: datetime,
) -> None:
    """Follow groups (already followed ones keep their targets)."""
    if group_ids:
        conn.execute(
            insert_or_ignore(conn, campaign_groups),
            [
                {
                    "campaign_id": campaign_id,
                    "group_id": g,
                    "targets": dict(targets),
                    "added_at": now,
                }
                for g in dict.fromkeys(group_ids)
            ],
        )


def readmit(
    conn: Connection, campaign_id: str, admitted: Sequence[str], named: Sequence[str]
) -> None:
    """Forget the departures of those being added; those named stay whatever their groups do."""
    if admitted:
        conn.execute(
            delete(campaign_departures).where(
                campaign_departures.c.campaign_id == campaign_id,
                campaign_departures.c.employee_id.in_(list(admitted)),
            )
        )
    if named:
        conn.execute(
            campaign_participants.update()
            .where(
                campaign_participants.c.campaign_id == campaign_id,
                campaign_participants.c.employee_id.in_(list(named)),
            )
            .values(group_id=None)
        )


def depart(conn: Connection, campaign_id: str, row: Any, reason: str, now: datetime) -> None:
    """Park a participant row as a departure."""
    _leave(conn, campaign_id, row.employee_id)
    conn.execute(
        insert_or_ignore(conn, campaign_departures).values(
            campaign_id=campaign_id,
            employee_id=row.employee_id,
            reason=reason,
            group_id=row.group_id,
            targets=row.targets,
            departed_at=now,
        )
    )


def campaigns_moved_by(
    conn: Connection, environment_id: str, employee_ids: Sequence[str]
) -> list[Any]:
    """The draft and active campaigns whose participants these employees' groups or status
    can change: they take part, are parked as deactivated, or are in a followed group."""
    ids = list(employee_ids)
    their_groups = select(group_members.c.group_id).where(group_members.c.employee_id.in_(ids))
    related = union(
        select(campaign_groups.c.campaign_id).where(campaign_groups.c.group_id.in_(their_groups)),
        select(campaign_participants.c.campaign_id).where(
            campaign_participants.c.employee_id.in_(ids)
        ),
        select(campaign_departures.c.campaign_id).where(
            campaign_departures.c.employee_id.in_(ids),
            campaign_departures.c.reason == DEACTIVATED,
        ),
    ).subquery()
    return list(
        conn.execute(
            select(campaigns)
            .where(
                campaigns.c.environment_id == environment_id,
                campaigns.c.status.in_(MOVING),
                campaigns.c.id.in_(select(related.c.campaign_id)),
            )
            .order_by(campaigns.c.id)
        ).all()
    )


def reconcile(
    conn: Connection,
    environment_id: str,
    campaign_id: str,
    employee_ids: Collection[str],
    now: datetime,
) -> list[str]:
    """Apply the rules above to these employees in one campaign; returns who joined or left."""
    ids = sorted(set(employee_ids))
    if not ids:
        return []
    people = load_employees(conn, environment_id, ids, require_active=False)
    followed = {
        r.group_id: r.targets
        for r in conn.execute(
            select(campaign_groups).where(campaign_groups.c.campaign_id == campaign_id)
        )
    }
    via: dict[str, list[str]] = {}
    for r in conn.execute(
        select(group_members.c.employee_id, group_members.c.group_id)
        .where(
            group_members.c.employee_id.in_(ids),
            group_members.c.group_id.in_(list(followed)),
        )
        .order_by(group_members.c.group_id)
    ):
        via.setdefault(r.employee_id, []).append(r.group_id)
    present = _rows(conn, campaign_participants, campaign_id, ids)
    parked = _rows(conn, campaign_departures, campaign_id, ids)
    changed: list[str] = []
    for who in ids:
        theirs = via.get(who, [])
        row, left = present.get(who), parked.get(who)
        if not people[who].active:
            if row is not None:
                depart(conn, campaign_id, row, DEACTIVATED, now)
                changed.append(who)
        elif left is not None:
            if left.reason == DEACTIVATED:
                _forget(conn, campaign_id, who)
                if left.group_id is None or theirs:
                    group = None if left.group_id is None else theirs[0]
                    _admit(conn, campaign_id, who, group, left.targets, now)
                    changed.append(who)
        elif row is not None:
            if row.group_id is not None and not theirs:
                _leave(conn, campaign_id, who)
                changed.append(who)
            elif row.group_id is not None and row.group_id not in theirs:
                _regroup(conn, campaign_id, who, theirs[0])
        elif theirs:
            _admit(conn, campaign_id, who, theirs[0], followed[theirs[0]], now)
            changed.append(who)
    return changed


def _rows(conn: Connection, table: Any, campaign_id: str, ids: Sequence[str]) -> dict[str, Any]:
    rows = conn.execute(
        select(table).where(table.c.campaign_id == campaign_id, table.c.employee_id.in_(ids))
    )
    return {r.employee_id: r for r in rows}


def _admit(
    conn: Connection,
    campaign_id: str,
    who: str,
    group_id: str | None,
    targets: Mapping[str, str],
    now: datetime,
) -> None:
    conn.execute(
        insert_or_ignore(conn, campaign_participants).values(
            campaign_id=campaign_id,
            employee_id=who,
            group_id=group_id,
            targets=dict(targets),
            added_at=now,
        )
    )


def _leave(conn: Connection, campaign_id: str, who: str) -> None:
    conn.execute(
        delete(campaign_participants).where(
            campaign_participants.c.campaign_id == campaign_id,
            campaign_participants.c.employee_id == who,
        )
    )


def _forget(conn: Connection, campaign_id: str, who: str) -> None:
    conn.execute(
        delete(campaign_departures).where(
            campaign_departures.c.campaign_id == campaign_id,
            campaign_departures.c.employee_id == who,
        )
    )


def _regroup(conn: Connection, campaign_id: str, who: str, group_id: str) -> None:
    conn.execute(
        campaign_participants.update()
        .where(
            campaign_participants.c.campaign_id == campaign_id,
            campaign_participants.c.employee_id == who,
        )
        .values(group_id=group_id)
    )


def followed_groups(conn: Connection, campaign_id: str) -> list[str]:
    """The groups followed that still exist (a deleted group took its members along)."""
    return list(
        conn.execute(
            select(campaign_groups.c.group_id)
            .join(groups, groups.c.id == campaign_groups.c.group_id)
            .where(campaign_groups.c.campaign_id == campaign_id)
            .order_by(campaign_groups.c.group_id)
        ).scalars()
    )


def unfollow(conn: Connection, campaign_id: str, group_ids: Sequence[str]) -> list[str]:
    """Stop following groups; returns the participants who may leave with them."""
    conn.execute(
        delete(campaign_groups).where(
            campaign_groups.c.campaign_id == campaign_id,
            campaign_groups.c.group_id.in_(list(group_ids)),
        )
    )
    members = select(group_members.c.employee_id).where(
        group_members.c.group_id.in_(list(group_ids))
    )
    return list(
        conn.execute(
            select(campaign_participants.c.employee_id).where(
                campaign_participants.c.campaign_id == campaign_id,
                or_(
                    campaign_participants.c.group_id.in_(list(group_ids)),
                    campaign_participants.c.employee_id.in_(members),
                ),
            )
        ).scalars()
    )
