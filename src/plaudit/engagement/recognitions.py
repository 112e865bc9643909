"""Awarding recognitions: a giver thanks colleagues, optionally with a badge and points.

One award is one write transaction: the employees and the badge are checked, the giver's
monthly budget is spent, the recognition is stored, each receiver's ledger is credited and
the events are appended. Any refusal rolls all of it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound
from plaudit.domain.ids import new_id
from plaudit.engagement.badges import Badge, givable_badge
from plaudit.engagement.directory import EmployeeRecord, load_employee, load_employees
from plaudit.engagement.giving_budget import consume_budget
from plaudit.engagement.ledger import points_earned, post_entry
from plaudit.engagement.recognition_queries import (
    Recognition,
    RecognitionFilter,
    fetch_recognition,
    find_recognition,
    recognition_page,
)
from plaudit.engagement.recognition_rules import (
    MAX_MESSAGE_LENGTH,
    check_people,
    check_points,
    clean_text,
    optional_text,
)
from plaudit.engagement.settings import read_settings
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft, rfc3339
from plaudit.store.database import Database
from plaudit.store.engagement_tables import recognition_receivers, recognitions
from plaudit.store.pagination import Page
from plaudit.store.tables import events

MAX_COMPANY_VALUE = 200


@dataclass(frozen=True, slots=True)
class AwardRequest:
    giver_id: str
    receiver_ids: tuple[str, ...]
    message: str
    badge_id: str | None = None
    points: int | None = None  # per receiver; None = a recognition without points
    company_value: str | None = None


@dataclass(frozen=True, slots=True)
class Award:
    recognition: Recognition
    created: bool  # False: an earlier award with the same idempotency key


class RecognitionService:
    def __init__(self, db: Database, clock: Clock, event_log: EventLog) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log

    async def award(
        self,
        environment_id: str,
        request: AwardRequest,
        *,
        idempotency_key: str | None = None,
        now: datetime | None = None,
    ) -> Award:
        """Award a recognition; `now` (default: the clock) also picks the budget month.

        A repeated `idempotency_key` with the same request returns the first recognition
        and writes nothing; with a different request it is a 409.
        """
        request = _checked(request)
        at = now or self._clock.now()

        def unit(conn: Connection) -> Award:
            if idempotency_key is not None:
                earlier = _replay(conn, environment_id, idempotency_key, request)
                if earlier is not None:
                    return Award(earlier, created=False)
            return self._award(conn, environment_id, request, idempotency_key, at)

        return await self._db.write(unit)

    async def get(self, environment_id: str, recognition_id: str) -> Recognition:
        found = await self._db.read_with(
            lambda conn: find_recognition(conn, environment_id, recognition_id)
        )
        if found is None:
            raise NotFound(f"no recognition {recognition_id}")
        return found

    async def list(
        self,
        environment_id: str,
        filters: RecognitionFilter,
        *,
        limit: int,
        cursor: str | None = None,
    ) -> Page[Recognition]:
        return await self._db.read_with(
            lambda conn: recognition_page(conn, environment_id, filters, limit=limit, cursor=cursor)
        )

    def _award(
        self,
        conn: Connection,
        environment_id: str,
        request: AwardRequest,
        idempotency_key: str | None,
        now: datetime,
    ) -> Award:
        giver = load_employee(conn, environment_id, request.giver_id, field="giver_id")
        receivers = load_employees(conn, environment_id, request.receiver_ids, field="receiver_ids")
        badge = givable_badge(conn, environment_id, request.badge_id) if request.badge_id else None
        points = request.points or 0
        consume_budget(
            conn,
            giver.id,
            budget=read_settings(conn, environment_id).monthly_giving_budget,
            points=points * len(receivers),
            now=now,
        )
        recognition_id = new_id("rec")
        conn.execute(
            recognitions.insert().values(
                id=recognition_id,
                environment_id=environment_id,
                giver_id=giver.id,
                message=request.message,
                badge_id=badge.id if badge else None,
                company_value=request.company_value,
                points_per_receiver=points,
                total_points=points * len(receivers),
                created_at=now,
            )
        )
        conn.execute(
            recognition_receivers.insert(),
            [{"recognition_id": recognition_id, "employee_id": rid} for rid in receivers],
        )
        # Credits in id order, so concurrent awards lock point accounts in one order.
        entries = {
            rid: post_entry(
                conn,
                receivers[rid],
                kind="earn",
                amount=points,
                reason="recognition",
                now=now,
                source=("recognition", recognition_id),
            )
            for rid in (sorted(receivers) if points else ())
        }
        ordered = [receivers[rid] for rid in request.receiver_ids]
        drafts = [_awarded(recognition_id, giver, ordered, request, badge, now, idempotency_key)]
        if badge is not None:
            drafts += [_badge_given(badge, recognition_id, giver, r, now) for r in ordered]
        drafts += [points_earned(entries[r.id], r) for r in ordered if r.id in entries]
        self._event_log.store(conn, environment_id, self._event_log.prepare(drafts))
        recognition = fetch_recognition(conn, environment_id, recognition_id)
        return Award(recognition, created=True)


def _checked(request: AwardRequest) -> AwardRequest:
    check_people(
        request.giver_id,
        request.receiver_ids,
        field="receiver_ids",
        required=True,
        self_code="self_recognition",
        self_message="the giver cannot recognize themselves",
    )
    return AwardRequest(
        giver_id=request.giver_id,
        receiver_ids=tuple(request.receiver_ids),
        message=clean_text(request.message, field="message", max_length=MAX_MESSAGE_LENGTH),
        badge_id=request.badge_id,
        points=check_points(request.points, len(request.receiver_ids)) or None,
        company_value=optional_text(
            request.company_value, field="company_value", max_length=MAX_COMPANY_VALUE
        ),
    )


def _replay(
    conn: Connection, environment_id: str, key: str, request: AwardRequest
) -> Recognition | None:
    """The recognition an earlier award with this idempotency key made, if any.

    The key rides on the `recognition.awarded` event, whose (environment, key) is unique:
    a concurrent duplicate that got past this check fails on that constraint and rolls back.
    """
    row = conn.execute(
        select(events.c.type, events.c.data).where(
            events.c.environment_id == environment_id, events.c.idempotency_key == key
        )
    ).first()
    if row is None:
        return None
    # The key may belong to an event published through the events API: not a replay.
    earlier = (
        find_recognition(conn, environment_id, str(row.data.get("recognition_id", "")))
        if row.type == "recognition.awarded"
        else None
    )
    if earlier is None or not _same(earlier, request):
        raise Conflict(
            "this idempotency key was already used with a different request",
            code="idempotency_key_reused",
            details={"recognition_id": earlier.id if earlier else None},
        )
    return earlier


def _same(earlier: Recognition, request: AwardRequest) -> bool:
    return (
        earlier.giver_id == request.giver_id
        and earlier.receiver_ids == tuple(sorted(request.receiver_ids))
        and earlier.message == request.message
        and earlier.badge_id == request.badge_id
        and earlier.points_per_receiver == (request.points or 0)
        and earlier.company_value == request.company_value
    )


def _awarded(
    recognition_id: str,
    giver: EmployeeRecord,
    receivers: list[EmployeeRecord],
    request: AwardRequest,
    badge: Badge | None,
    now: datetime,
    idempotency_key: str | None,
) -> EventDraft:
    points = request.points or 0
    data: Mapping[str, Any] = {
        "recognition_id": recognition_id,
        "giver": giver.ref(),
        "receivers": [receiver.ref() for receiver in receivers],
        "message": request.message,
        "badge": {"id": badge.id, "name": badge.name} if badge else None,
        "company_value": request.company_value,
        "points_per_receiver": points,
        "total_points": points * len(receivers),
        "created_at": rfc3339(now),
    }
    return EventDraft(type="recognition.awarded", data=data, idempotency_key=idempotency_key)


def _badge_given(
    badge: Badge,
    recognition_id: str,
    giver: EmployeeRecord,
    receiver: EmployeeRecord,
    now: datetime,
) -> EventDraft:
    return EventDraft(
        type="badge.given",
        data={
            "badge": {"id": badge.id, "name": badge.name, "description": badge.description},
            "recognition_id": recognition_id,
            "giver": giver.ref(),
            "receiver": receiver.ref(),
            "created_at": rfc3339(now),
        },
    )
