"""The claim statements: which messages are due, and how they are taken.

Built once with bound parameters (named `c_*`: an UPDATE would take a parameter named
like a column as a value to SET): constructing and cache-keying these nested selects
costs milliseconds, and a busy worker claims many times a second.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Executable,
    FromClause,
    Integer,
    ScalarSelect,
    Select,
    String,
    Subquery,
    TextualSelect,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    true,
    update,
)

from plaudit.store.tables import endpoints, events, messages
from plaudit.store.types import UtcDateTime

# A failing endpoint is probed one message at a time after this many failures in a row.
CIRCUIT_THRESHOLD = 5

NOW = bindparam("c_now", type_=UtcDateTime())
LEASE_UNTIL = bindparam("c_lease_until", type_=UtcDateTime())
WORKER = bindparam("c_worker", type_=String())
LIMIT = bindparam("c_limit", type_=Integer())
WINDOW = bindparam("c_window", type_=Integer())
PER_ENDPOINT = bindparam("c_per_endpoint", type_=Integer())
SATURATED = bindparam("c_saturated", expanding=True, type_=String())
ENDPOINT = bindparam("c_endpoint", type_=String())
CANDIDATES = bindparam("c_candidates", expanding=True, type_=String())

Instant = datetime | BindParameter[datetime]


def lease_free(now: Instant, table: FromClause = messages) -> ColumnElement[bool]:
    return or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at < now)


def message_due(now: Instant, table: FromClause = messages) -> list[ColumnElement[bool]]:
    return [table.c.status == "pending", table.c.next_attempt_at <= now, lease_free(now, table)]


def endpoint_ready(now: Instant) -> list[ColumnElement[bool]]:
    return [
        endpoints.c.enabled.is_(True),
        endpoints.c.deleted_at.is_(None),
        or_(endpoints.c.paused_until.is_(None), endpoints.c.paused_until <= now),
    ]


@functools.cache
def fifo_claim_statements(dialect: str, by_endpoint: bool) -> tuple[Select[Any], Executable]:
    """(query for the candidate ids, the claiming statement) of a FIFO claim.

    The candidates' ids are passed to the claim as `c_candidates`. On PostgreSQL the claim
    returns the claimed messages' rows (`PG_TAKE`), on SQLite their ids.
    """
    ready = endpoint_ready(NOW)
    ready.append(
        endpoints.c.id == ENDPOINT if by_endpoint else endpoints.c.rate_limit_per_s.is_(None)
    )
    ready.append(endpoints.c.id.not_in(SATURATED))
    heads = due_fifo(ready)
    if dialect == "postgresql":
        # Two steps: the due ids first, then exactly those rows locked and taken (PG_TAKE).
        return heads, pg_take()
    claim = (
        update(messages)
        .where(messages.c.id.in_(CANDIDATES), *message_due(NOW))
        # A claimed message is due again when its lease runs out (SQS's visibility timeout):
        # off the head of the due index, so the next claim does not step over every message
        # in flight to find the free ones.
        .values(lease_owner=WORKER, lease_expires_at=LEASE_UNTIL, next_attempt_at=LEASE_UNTIL)
        .returning(messages.c.id)
    )
    return heads, claim


# PostgreSQL: lock the candidates, skipping rows another worker is claiming right now,
# lease those still due, and return what the sender needs, in one statement. Every step
# is driven by the candidate ids through primary keys, so the cost follows the batch
# whatever the statistics say. On a table that just filled up (stale statistics) the
# planner, free to, drove the lock from the due index and filtered every due row against
# each candidate (hundreds of ms per claim with a 20 000 backlog), and read all of
# `messages` and `events` to load 512 rows. So the lock names nothing but the id, and its
# LIMIT keeps the due test from being pushed down into it (where it would be indexable);
# the due test runs on the locked row, as FOR UPDATE returns it at its latest version.
PG_TAKE = """
WITH taken AS (
    UPDATE messages AS m
    SET lease_owner = :c_worker, lease_expires_at = :c_lease_until,
        next_attempt_at = :c_lease_until
    WHERE m.id = ANY(ARRAY(
        SELECT locked.id
        FROM unnest(CAST(:c_candidates AS varchar[])) AS candidate(id)
        CROSS JOIN LATERAL (
            SELECT d.id, d.status, d.next_attempt_at, d.lease_expires_at
            FROM messages AS d
            WHERE d.id = candidate.id
            LIMIT 1
            FOR UPDATE SKIP LOCKED
        ) AS locked
        WHERE locked.status = 'pending'
          AND locked.next_attempt_at <= :c_now
          AND (locked.lease_expires_at IS NULL OR locked.lease_expires_at < :c_now)
    ))
    RETURNING m.id, m.environment_id, m.endpoint_id, m.event_id, m.event_type,
              m.attempt_count, m.schedule_position, m.was_exhausted
)
SELECT taken.id, taken.environment_id, taken.endpoint_id, taken.event_id, taken.event_type,
       taken.attempt_count, taken.schedule_position, taken.was_exhausted,
       ep.updated_at, ev.data, ev.created_at, ev.is_test
FROM unnest(CAST(:c_candidates AS varchar[])) WITH ORDINALITY AS candidate(id, position)
JOIN taken ON taken.id = candidate.id
JOIN endpoints AS ep ON ep.id = taken.endpoint_id
JOIN events AS ev ON ev.id = taken.event_id
ORDER BY candidate.position
"""


@functools.cache
def pg_take() -> TextualSelect:
    return (
        text(PG_TAKE)
        .bindparams(
            bindparam("c_now", type_=UtcDateTime()),
            bindparam("c_lease_until", type_=UtcDateTime()),
            bindparam("c_worker", type_=String()),
        )
        .columns(
            messages.c.id,
            messages.c.environment_id,
            messages.c.endpoint_id,
            messages.c.event_id,
            messages.c.event_type,
            messages.c.attempt_count,
            messages.c.schedule_position,
            messages.c.was_exhausted,
            endpoints.c.updated_at,
            events.c.data,
            events.c.created_at,
            events.c.is_test,
        )
    )


def plain_ready(*, by_endpoint: bool) -> list[ColumnElement[bool]]:
    """Endpoints a plain (not FIFO) claim may take messages of."""
    return [
        *endpoint_ready(NOW),
        endpoints.c.fifo.is_(False),
        endpoints.c.id == ENDPOINT if by_endpoint else endpoints.c.rate_limit_per_s.is_(None),
        endpoints.c.id.not_in(SATURATED),
    ]


@functools.cache
def due_in_window(dialect: str) -> Select[Any]:
    """One row: the claimable ids among the `c_window` oldest due messages, as JSON
    `[[id, endpoint_id], ...]`, and how many due messages that window held.

    The walk of the due index stops after `c_window` entries whoever they belong to, so a
    claim costs the same with a backlog of a thousand or ten million. When the window is
    full of messages no claim may take (their endpoint disabled, paused or saturated), the
    count says so and the claimer looks endpoint by endpoint (`due_by_endpoint`).
    """
    window = (
        select(messages.c.id, messages.c.endpoint_id, messages.c.next_attempt_at)
        .where(*message_due(NOW))
        .order_by(messages.c.next_attempt_at)
        .limit(WINDOW)
        .cte("due_window")
    )
    rows = (
        select(
            window.c.id,
            window.c.endpoint_id,
            window.c.next_attempt_at,
            endpoints.c.consecutive_failures,
        )
        .join(endpoints, endpoints.c.id == window.c.endpoint_id)
        .where(*plain_ready(by_endpoint=False))
        .subquery("claimable")
    )
    return select(
        _as_json(dialect, _capped(rows)),
        select(func.count()).select_from(window).scalar_subquery(),
    )


@functools.cache
def due_by_endpoint(dialect: str, by_endpoint: bool) -> Select[Any]:
    """Each ready endpoint's oldest due messages as JSON `[[id, endpoint_id], ...]`.

    One probe of `ix_messages_endpoint` per ready endpoint: the cost follows the number of
    endpoints, never the backlog of one that cannot take more.
    """
    probe = messages.alias("probe")
    this_endpoint: ColumnElement[bool]
    if dialect == "postgresql":
        # A range of one value, not `=`: with `=` PostgreSQL treats the endpoint as fixed,
        # sees the due index already in `next_attempt_at` order, guesses (for an endpoint
        # it cannot name) that half the due messages are this endpoint's, and walks the due
        # index filtering for it: through every message of a clogged endpoint first. As a
        # range, only ix_messages_endpoint gives the (endpoint, time) order asked for below.
        this_endpoint = probe.c.endpoint_id.between(endpoints.c.id, endpoints.c.id)
    else:
        this_endpoint = probe.c.endpoint_id == endpoints.c.id
    oldest = (
        select(probe.c.id, probe.c.next_attempt_at)
        .where(this_endpoint, *message_due(NOW, probe))
        .order_by(probe.c.endpoint_id, probe.c.next_attempt_at)
        .limit(PER_ENDPOINT)
    )
    ready = plain_ready(by_endpoint=by_endpoint)
    rows: Select[Any]
    if dialect == "postgresql":
        found = oldest.lateral("found")
        rows = select(
            found.c.id,
            endpoints.c.id.label("endpoint_id"),
            found.c.next_attempt_at,
            endpoints.c.consecutive_failures,
        ).select_from(endpoints.join(found, true()))
    else:
        # No LATERAL in SQLite: each endpoint's probe names the messages, looked up by
        # primary key. The LEFT JOIN keeps the endpoints the outer loop (an inner join left
        # SQLite free to walk all of `messages` instead, testing each row against a probe);
        # an endpoint with nothing due gives one row without a message, dropped below.
        rows = select(
            messages.c.id,
            endpoints.c.id.label("endpoint_id"),
            messages.c.next_attempt_at,
            endpoints.c.consecutive_failures,
        ).select_from(
            endpoints.outerjoin(messages, messages.c.id.in_(oldest.with_only_columns(probe.c.id)))
        )
    return select(_as_json(dialect, _capped(rows.where(*ready).subquery("claimable"))))


def _capped(rows: Subquery) -> Subquery:
    """At most `c_per_endpoint` (1 while the endpoint is failing) per endpoint, oldest
    first, `c_limit` in all."""
    ranked = select(
        rows.c.id,
        rows.c.endpoint_id,
        rows.c.next_attempt_at,
        func.row_number()
        .over(partition_by=rows.c.endpoint_id, order_by=rows.c.next_attempt_at)
        .label("rank"),
        case((rows.c.consecutive_failures >= CIRCUIT_THRESHOLD, 1), else_=PER_ENDPOINT).label(
            "cap"
        ),
    ).subquery("ranked")
    return (
        select(ranked.c.id, ranked.c.endpoint_id)
        .where(ranked.c.id.is_not(None), ranked.c.rank <= ranked.c.cap)
        .order_by(ranked.c.next_attempt_at)
        .limit(LIMIT)
        .subquery("capped")
    )


def _as_json(dialect: str, capped: Subquery) -> ScalarSelect[Any]:
    """One JSON text for all rows: a claim's ids travel as one value, not row by row."""
    if dialect == "postgresql":
        pairs: ColumnElement[Any] = func.json_agg(
            func.json_build_array(capped.c.id, capped.c.endpoint_id)
        )
    else:
        pairs = func.json_group_array(func.json_array(capped.c.id, capped.c.endpoint_id))
    return select(pairs).scalar_subquery()


def due_fifo(ready: list[ColumnElement[bool]]) -> Select[Any]:
    """The head (lowest sequence number still pending) of each FIFO endpoint.

    Driven from the endpoints table, one index lookup per FIFO endpoint, so the cost does
    not grow with the backlog.
    """
    head = messages.alias("head")
    head_id = (
        select(head.c.id)
        .where(head.c.endpoint_id == endpoints.c.id, head.c.status == "pending")
        .order_by(head.c.fifo_seq)
        .limit(1)
        .scalar_subquery()
    )
    return select(head_id).where(endpoints.c.fifo.is_(True), *ready).limit(LIMIT)
