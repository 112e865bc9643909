"""Campaign administration: create, change (while draft), participants, activate, close.

Status moves draft -> active -> closed, never back. A draft can be changed freely and has
no live progress; activating it computes its progress from the transactions already loaded
(milestones and leaderboards announce what that reaches), and from then on every load moves
it live. Participants are employees, or groups expanded to their active members and then
followed (see `roster`: members joining later take part, leavers stop).
Targets are per participant and metric, defaulting to the metric's target, and may be set
for many participants at once. Every refusal is a 4xx with nothing written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.directory import load_employees
from plaudit.incentives.campaign_cache import bump_revision, new_revision
from plaudit.incentives.definition import BoardDefinition, CampaignDefinition, rank_rewards_of
from plaudit.incentives.engine import IncentiveEngine
from plaudit.incentives.roster import follow_groups, followed_groups, readmit
from plaudit.ingest.transactions import decimal_text
from plaudit.store.database import Database
from plaudit.store.engagement_tables import group_members, groups
from plaudit.store.incentive_tables import campaign_participants, campaigns, leaderboards
from plaudit.store.pagination import Page, keyset, page_of


@dataclass(frozen=True, slots=True)
class TargetUpdate:
    employee_id: str
    targets: Mapping[str, Decimal]


class CampaignService:
    def __init__(self, db: Database, clock: Clock, engine: IncentiveEngine) -> None:
        self._db = db
        self._clock = clock
        self._engine = engine

    async def create(
        self,
        environment_id: str,
        definition: CampaignDefinition,
        boards: Sequence[BoardDefinition],
    ) -> dict[str, Any]:
        definition.check(tuple(boards))
        now = self._clock.now()
        campaign_id = new_id("cmp")

        def unit(conn: Connection) -> dict[str, Any]:
            _check_groups(conn, environment_id, [b.group_id for b in boards if b.group_id])
            conn.execute(
                campaigns.insert().values(
                    id=campaign_id,
                    environment_id=environment_id,
                    status="draft",
                    created_at=now,
                    updated_at=now,
                    revision=new_revision(),
                    **_columns(definition),
                )
            )
            _write_boards(conn, campaign_id, boards)
            return campaign_json(conn, environment_id, campaign_id)

        return await self._db.write(unit)

    async def replace(
        self,
        environment_id: str,
        campaign_id: str,
        definition: CampaignDefinition,
        boards: Sequence[BoardDefinition],
    ) -> dict[str, Any]:
        definition.check(tuple(boards))
        now = self._clock.now()

        def unit(conn: Connection) -> dict[str, Any]:
            _require_status(conn, environment_id, campaign_id, "draft", "changed")
            _check_groups(conn, environment_id, [b.group_id for b in boards if b.group_id])
            conn.execute(
                campaigns.update()
                .where(campaigns.c.id == campaign_id)
                .values(updated_at=now, revision=new_revision(), **_columns(definition))
            )
            conn.execute(leaderboards.delete().where(leaderboards.c.campaign_id == campaign_id))
            _write_boards(conn, campaign_id, boards)
            return campaign_json(conn, environment_id, campaign_id)

        return await self._db.write(unit)

    async def get(
        self, environment_id: str, campaign_id: str, *, published: bool = False
    ) -> dict[str, Any]:
        """A campaign; `published` hides drafts (404), as Connect must."""

        def unit(conn: Connection) -> dict[str, Any]:
            found = campaign_json(conn, environment_id, campaign_id)
            if published and found["status"] == "draft":
                raise NotFound(f"no campaign {campaign_id}", code="campaign_not_found")
            return found

        return await self._db.read_with(unit)

    async def list(
        self, environment_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        def unit(conn: Connection) -> Page[dict[str, Any]]:
            query = select(campaigns.c.id).where(campaigns.c.environment_id == environment_id)
            if status is not None:
                query = query.where(campaigns.c.status == status)
            ids = conn.execute(keyset(query, campaigns.c.id, "asc", cursor, limit)).scalars()
            return page_of(
                ids.all(),
                limit,
                "asc",
                lambda shown: [campaign_json(conn, environment_id, i) for i in shown],
                lambda item: str(item["id"]),
            )

        return await self._db.read_with(unit)

    async def add_participants(
        self,
        environment_id: str,
        campaign_id: str,
        employee_ids: Sequence[str],
        group_ids: Sequence[str],
        targets: Mapping[str, Decimal],
    ) -> dict[str, Any]:
        now = self._clock.now()

        def unit(conn: Connection) -> dict[str, Any]:
            row = _fetch(conn, environment_id, campaign_id)
            if row.status == "closed":
                raise Conflict("a closed campaign takes no participants", code="campaign_closed")
            _check_targets(row, targets, "targets")
            unaskable = [e for e in employee_ids if not can_name_anything(e)]
            if unaskable:
                raise ValidationFailed(
                    "unknown employees",
                    code="unknown_employee",
                    details={"field": "employee_ids", "employee_ids": unaskable},
                )
            found = load_employees(conn, environment_id, employee_ids, field="employee_ids")
            wanted: dict[str, str | None] = dict.fromkeys(found, None)
            _check_groups(conn, environment_id, group_ids)
            for group_id in group_ids:
                members = conn.execute(
                    select(group_members.c.employee_id).where(group_members.c.group_id == group_id)
                ).scalars()
                active = load_employees(conn, environment_id, members.all(), require_active=False)
                for employee in active.values():
                    if employee.active:
                        wanted.setdefault(employee.id, group_id)
            text = {key: decimal_text(value) for key, value in targets.items()}
            follow_groups(conn, campaign_id, group_ids, text, now)
            readmit(conn, campaign_id, list(wanted), list(found))
            existing = set(
                conn.execute(
                    select(campaign_participants.c.employee_id).where(
                        campaign_participants.c.campaign_id == campaign_id
                    )
                ).scalars()
            )
            added = [who for who in wanted if who not in existing]
            for who in added:
                conn.execute(
                    campaign_participants.insert().values(
                        campaign_id=campaign_id,
                        employee_id=who,
                        group_id=wanted[who],
                        targets=text,
                        added_at=now,
                    )
                )
            if added:
                bump_revision(conn, campaign_id, now)
            if added and row.status == "active":
                self._engine.rebuild(conn, campaign_id)
            return {"added": sorted(added), "already": sorted(set(wanted) & existing)}

        return await self._db.write(unit)

    async def set_targets(
        self, environment_id: str, campaign_id: str, updates: Sequence[TargetUpdate]
    ) -> int:
        now = self._clock.now()

        def unit(conn: Connection) -> int:
            row = _fetch(conn, environment_id, campaign_id)
            if row.status == "closed":
                raise Conflict("a closed campaign's targets are final", code="campaign_closed")
            members = set(
                conn.execute(
                    select(campaign_participants.c.employee_id).where(
                        campaign_participants.c.campaign_id == campaign_id
                    )
                ).scalars()
            )
            unknown = [u.employee_id for u in updates if u.employee_id not in members]
            if unknown:
                raise ValidationFailed(
                    "not participants of this campaign",
                    code="unknown_participant",
                    details={"field": "targets", "employee_ids": unknown},
                )
            for index, update in enumerate(updates):
                _check_targets(row, update.targets, f"targets[{index}].targets")
            for update in updates:
                conn.execute(
                    campaign_participants.update()
                    .where(
                        campaign_participants.c.campaign_id == campaign_id,
                        campaign_participants.c.employee_id == update.employee_id,
                    )
                    .values(targets={k: decimal_text(v) for k, v in update.targets.items()})
                )
            bump_revision(conn, campaign_id, now)
            if updates and row.status == "active":
                self._engine.rebuild(conn, campaign_id)
            return len(updates)

        return await self._db.write(unit)

    async def activate(self, environment_id: str, campaign_id: str) -> dict[str, Any]:
        return await self._move(environment_id, campaign_id, "draft", "active")

    async def close(self, environment_id: str, campaign_id: str) -> dict[str, Any]:
        return await self._move(environment_id, campaign_id, "active", "closed")

    async def _move(
        self, environment_id: str, campaign_id: str, source: str, target: str
    ) -> dict[str, Any]:
        now = self._clock.now()

        def unit(conn: Connection) -> dict[str, Any]:
            _require_status(conn, environment_id, campaign_id, source, f"made {target}")
            conn.execute(
                campaigns.update()
                .where(campaigns.c.id == campaign_id)
                .values(status=target, updated_at=now, revision=new_revision())
            )
            if target == "active":
                self._engine.rebuild(conn, campaign_id)
            return campaign_json(conn, environment_id, campaign_id)

        return await self._db.write(unit)


def _columns(definition: CampaignDefinition) -> dict[str, Any]:
    schedule = definition.schedule
    return {
        "name": definition.name,
        "period_start": schedule.start,
        "period_end": schedule.end,
        "time_zone": schedule.time_zone,
        "recurrence": schedule.recurrence,
        "reward_type": definition.reward_type,
        "currency": definition.currency,
        "auto_approve": definition.auto_approve,
        "definition": definition.to_json(),
    }


def _write_boards(conn: Connection, campaign_id: str, boards: Sequence[BoardDefinition]) -> None:
    for board in boards:
        conn.execute(
            leaderboards.insert().values(
                id=new_id("lb"),
                campaign_id=campaign_id,
                group_id=board.group_id,
                rank_by=board.rank_by,
                top_n=board.top_n,
                min_interval_s=board.min_interval_s,
                announced={"tops": {}, "pending": []},
                pending=False,
                rank_rewards=[reward.to_json() for reward in board.rewards],
            )
        )


def _check_groups(conn: Connection, environment_id: str, group_ids: Sequence[str]) -> None:
    askable = [g for g in group_ids if can_name_anything(g)]  # never send NUL to the db
    found = set(
        conn.execute(
            select(groups.c.id).where(
                groups.c.environment_id == environment_id, groups.c.id.in_(askable)
            )
        ).scalars()
    )
    unknown = [g for g in group_ids if g not in found]
    if unknown:
        raise ValidationFailed(
            "unknown groups", code="unknown_group", details={"group_ids": unknown}
        )


def _check_targets(row: Any, targets: Mapping[str, Decimal], field: str) -> None:
    keys = [m["key"] for m in row.definition["metrics"]]
    unknown = [key for key in targets if key not in keys]
    if unknown:
        raise ValidationFailed(
            f"{field} names unknown metrics",
            code="unknown_metric",
            details={"field": field, "unknown": unknown, "known": keys},
        )
    if any(value <= 0 for value in targets.values()):
        raise ValidationFailed("targets must be above 0", details={"field": field})


def campaign_row(conn: Connection, environment_id: str, campaign_id: str) -> Any:
    """The `campaigns` row (404 when this environment has no such campaign)."""
    return _fetch(conn, environment_id, campaign_id)


def _fetch(conn: Connection, environment_id: str, campaign_id: str) -> Any:
    if not can_name_anything(campaign_id):
        raise NotFound(f"no campaign {campaign_id!r}", code="campaign_not_found")
    row = conn.execute(
        select(campaigns).where(
            campaigns.c.id == campaign_id, campaigns.c.environment_id == environment_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no campaign {campaign_id}", code="campaign_not_found")
    return row


def _require_status(
    conn: Connection, environment_id: str, campaign_id: str, status: str, doing: str
) -> None:
    row = _fetch(conn, environment_id, campaign_id)
    if row.status != status:
        raise Conflict(
            f"a {row.status} campaign cannot be {doing} (it must be {status})",
            code="campaign_status",
            details={"status": row.status},
        )


def campaign_json(conn: Connection, environment_id: str, campaign_id: str) -> dict[str, Any]:
    row = _fetch(conn, environment_id, campaign_id)
    boards = conn.execute(
        select(leaderboards)
        .where(leaderboards.c.campaign_id == campaign_id)
        .order_by(leaderboards.c.id)
    ).all()
    count = conn.execute(
        select(func.count()).where(campaign_participants.c.campaign_id == campaign_id)
    ).scalar_one()
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "period": {
            "start": row.period_start,
            "end": row.period_end,
            "time_zone": row.time_zone,
            "recurrence": row.recurrence,
        },
        "reward": {"type": row.reward_type, "currency": row.currency},
        "auto_approve": row.auto_approve,
        **row.definition,
        "leaderboards": [
            {
                "id": b.id,
                "rank_by": b.rank_by,
                "top_n": b.top_n,
                "group_id": b.group_id,
                "min_interval_s": b.min_interval_s,
                "rewards": [r.to_json() for r in rank_rewards_of(b.rank_rewards)],
            }
            for b in boards
        ],
        "participant_count": count,
        "group_ids": followed_groups(conn, campaign_id),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
