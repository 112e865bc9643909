"""Writing attempt results in batches: message state, attempt log, endpoint health.

One transaction per batch. Messages are updated only while still pending, and a failure
only by the worker holding the lease, so a late result from a worker whose lease
expired can never undo another worker's success. Operational events
(`message.attempt.exhausted`, `message.attempt.recovered`, `endpoint.disabled`) are
appended in the same transaction.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Integer, bindparam, func, select, text, update

from plaudit.delivery.claim_queries import CIRCUIT_THRESHOLD
from plaudit.delivery.models import AttemptResult, ClaimedMessage, Outcome
from plaudit.domain.clock import Clock
from plaudit.domain.ids import new_id
from plaudit.domain.retry import next_delay
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft, rfc3339
from plaudit.store.database import Database
from plaudit.store.tables import endpoints, messages
from plaudit.store.types import UtcDateTime, sqlite_utc_text

MAX_CIRCUIT_PAUSE = timedelta(minutes=2)
_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class Recorded:
    message: ClaimedMessage
    result: AttemptResult
    started_at: datetime
    schedule: tuple[float, ...]


@dataclass(slots=True)
class _EndpointTally:
    failures: int = 0
    succeeded: bool = False
    gone: bool = False
    first_failure_at: datetime | None = None
    pause_for: timedelta | None = None


class ResultWriter:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        event_log: EventLog,
        *,
        disable_after: timedelta,
        operational_types: frozenset[str],
    ) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log
        self._disable_after = disable_after
        self._operational = operational_types

    async def write(self, worker: str, batch: Sequence[Recorded]) -> None:
        if batch:
            # Rows are built inside the unit: on SQLite that is the writer thread, which
            # keeps this per-message work off the event loop that sends.
            await self._db.write(functools.partial(self._record, worker, batch))

    def _record(self, worker: str, batch: Sequence[Recorded], conn: Connection) -> None:
        now = self._clock.now()
        successes: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        attempts: list[tuple[Any, ...]] = []
        notices: list[tuple[str, EventDraft]] = []
        tallies: dict[str, _EndpointTally] = defaultdict(_EndpointTally)
        for item in batch:
            message, result = item.message, item.result
            attempts.append(_attempt_row(worker, item))
            tally = tallies[message.endpoint_id]
            if result.outcome is Outcome.SUCCESS:
                tally.succeeded = True
                successes.append(_success_row(item, now))
                if message.was_exhausted and not self._is_operational(message):
                    notices.append(_notice("message.attempt.recovered", item, now))
                continue
            tally.failures += 1
            tally.gone = tally.gone or result.outcome is Outcome.GONE
            tally.first_failure_at = tally.first_failure_at or item.started_at
            if result.retry_after is not None:
                tally.pause_for = max(tally.pause_for or timedelta(0), result.retry_after)
            row = _failure_row(worker, item, now)
            failures.append(row)
            if row["b_status"] == "failed" and not self._is_operational(message):
                notices.append(_notice("message.attempt.exhausted", item, now))
        if conn.dialect.name == "sqlite":
            # Per-message statements on the hot path go straight to the driver.
            _record_sqlite(conn, successes, attempts)
        else:
            _record_successes_by_code(conn, successes)
            _record_attempts_pg(conn, attempts)
        if failures:
            conn.execute(_FAILURE_UPDATE, failures)
        disabled = self._update_endpoints(conn, tallies, now)
        for environment_id, draft in notices:
            self._event_log.store(conn, environment_id, self._event_log.prepare([draft]))
        for environment_id, draft in disabled:
            self._event_log.store(conn, environment_id, self._event_log.prepare([draft]))

    def _is_operational(self, message: ClaimedMessage) -> bool:
        # Never report on deliveries of reports: that way lies an endless loop.
        return message.event_type in self._operational

    def _update_endpoints(
        self, conn: Connection, tallies: dict[str, _EndpointTally], now: datetime
    ) -> list[tuple[str, EventDraft]]:
        failing: list[str] = []
        gone: list[str] = []
        for endpoint_id, tally in tallies.items():
            values: dict[str, Any]
            if tally.succeeded and not tally.failures:
                values = {"consecutive_failures": 0, "failing_since": None, "paused_until": None}
            elif tally.succeeded:
                # Mixed batch: the endpoint answers, so it is not failing continuously.
                values = {"consecutive_failures": tally.failures, "failing_since": None}
            else:
                failing.append(endpoint_id)
                streak = endpoints.c.consecutive_failures + tally.failures
                values = {
                    "consecutive_failures": streak,
                    "failing_since": func.coalesce(
                        endpoints.c.failing_since, tally.first_failure_at
                    ),
                }
            if tally.pause_for is not None:
                values["paused_until"] = now + tally.pause_for
            if tally.gone:
                gone.append(endpoint_id)
            conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(**values))
        self._open_circuits(conn, failing, now)
        drafts = self._disable(conn, gone, "gone", now, cutoff=None)
        drafts += self._disable(conn, failing, "failing", now, cutoff=now - self._disable_after)
        return drafts

    def _open_circuits(self, conn: Connection, endpoint_ids: list[str], now: datetime) -> None:
        if not endpoint_ids:
            return
        rows = conn.execute(
            select(
                endpoints.c.id, endpoints.c.consecutive_failures, endpoints.c.paused_until
            ).where(
                endpoints.c.id.in_(endpoint_ids),
                endpoints.c.consecutive_failures >= CIRCUIT_THRESHOLD,
            )
        )
        for endpoint_id, streak, paused_until in rows:
            pause = circuit_pause(streak)
            until = now + pause
            if paused_until is None or paused_until < until:
                conn.execute(
                    update(endpoints)
                    .where(endpoints.c.id == endpoint_id)
                    .values(paused_until=until)
                )

    def _disable(
        self,
        conn: Connection,
        endpoint_ids: list[str],
        reason: str,
        now: datetime,
        *,
        cutoff: datetime | None,
    ) -> list[tuple[str, EventDraft]]:
        if not endpoint_ids:
            return []
        conditions: list[ColumnElement[bool]] = [
            endpoints.c.id.in_(endpoint_ids),
            endpoints.c.enabled.is_(True),
        ]
        if cutoff is not None:
            conditions.append(endpoints.c.failing_since <= cutoff)
        rows = conn.execute(
            update(endpoints)
            .where(*conditions)
            .values(enabled=False, disabled_reason=reason, updated_at=now)
            .returning(
                endpoints.c.id,
                endpoints.c.environment_id,
                endpoints.c.url,
                endpoints.c.failing_since,
            )
        )
        return [
            (
                environment_id,
                EventDraft(
                    type="endpoint.disabled",
                    data={
                        "endpoint_id": endpoint_id,
                        "url": url,
                        "reason": reason,
                        "failing_since": rfc3339(failing_since) if failing_since else None,
                        "disabled_at": rfc3339(now),
                    },
                ),
            )
            for endpoint_id, environment_id, url, failing_since in rows
        ]


def circuit_pause(consecutive_failures: int) -> timedelta:
    """1 s after the threshold, doubling per further failure, at most two minutes."""
    exponent = min(consecutive_failures - CIRCUIT_THRESHOLD, 10)
    return min(timedelta(seconds=2**exponent), MAX_CIRCUIT_PAUSE)


# PostgreSQL: the batch's ids as one array (one prepared statement whatever the batch
# size), found by primary key whatever the statistics say. Compared plainly, a table whose
# statistics predate a burst (autovacuum runs a minute later at best) let the planner read
# every pending row of the due index and test each against the whole id list: 50-150 ms
# per batch of 500 with a 20 000 backlog. So the pending guard is wrapped in IS TRUE, which
# no index can serve, and the ids come through a subquery, whose array the planner sizes
# as small (a known array of 500 made a sequential scan look cheaper than the key).
PG_SUCCESS = """
UPDATE messages SET status = 'succeeded', attempt_count = attempt_count + 1,
    schedule_position = schedule_position + 1, next_attempt_at = NULL, lease_owner = NULL,
    lease_expires_at = NULL, last_status_code = :b_code, last_error = NULL,
    updated_at = :b_now
WHERE id = ANY(ARRAY(SELECT unnest(CAST(:b_ids AS varchar[]))))
  AND (status = 'pending') IS TRUE
"""
_PG_SUCCESS = text(PG_SUCCESS).bindparams(
    bindparam("b_code", type_=Integer()), bindparam("b_now", type_=UtcDateTime())
)
# A batch's attempts as one array per column: one statement, no per-row bind processing.
PG_ATTEMPTS = """
INSERT INTO message_attempts (id, message_id, endpoint_id, environment_id, attempt, outcome,
    status_code, duration_ms, error, response_headers, response_body, worker, started_at)
SELECT id, message_id, endpoint_id, environment_id, attempt, outcome, status_code,
    duration_ms, error, CAST(response_headers AS jsonb), response_body, worker, started_at
FROM unnest(
    CAST(:a_id AS varchar[]), CAST(:a_message AS varchar[]), CAST(:a_endpoint AS varchar[]),
    CAST(:a_environment AS varchar[]), CAST(:a_attempt AS integer[]),
    CAST(:a_outcome AS varchar[]), CAST(:a_code AS integer[]),
    CAST(:a_duration AS double precision[]), CAST(:a_error AS varchar[]),
    CAST(:a_headers AS text[]), CAST(:a_body AS text[]), CAST(:a_worker AS varchar[]),
    CAST(:a_started AS timestamptz[])
) AS t(id, message_id, endpoint_id, environment_id, attempt, outcome, status_code,
       duration_ms, error, response_headers, response_body, worker, started_at)
"""
_PG_ATTEMPTS = text(PG_ATTEMPTS)
_PG_ATTEMPT_PARAMS = (
    "a_id", "a_message", "a_endpoint", "a_environment", "a_attempt", "a_outcome", "a_code",
    "a_duration", "a_error", "a_headers", "a_body", "a_worker", "a_started",
)  # fmt: skip


def _record_attempts_pg(conn: Connection, attempts: list[tuple[Any, ...]]) -> None:
    if not attempts:
        return
    columns: list[list[Any]] = [list(values) for values in zip(*attempts, strict=True)]
    # JSON text, cast in the statement: an array of jsonb has no plain Python form.
    columns[9] = [None if h is None else orjson.dumps(h).decode() for h in columns[9]]
    conn.execute(_PG_ATTEMPTS, dict(zip(_PG_ATTEMPT_PARAMS, columns, strict=True)))


# The same guard, for the same reason, on the per-message failure update.
_STILL_PENDING = (messages.c.status == "pending").is_(True)


def _record_successes_by_code(conn: Connection, successes: list[dict[str, Any]]) -> None:
    """One UPDATE per distinct status code (usually one), not one per message."""
    by_code: dict[int | None, list[str]] = defaultdict(list)
    for row in successes:
        by_code[row["b_code"]].append(row["b_id"])
    for code, ids in by_code.items():
        conn.execute(_PG_SUCCESS, {"b_code": code, "b_now": successes[0]["b_now"], "b_ids": ids})


_FAILURE_UPDATE = (
    update(messages)
    .where(
        messages.c.id == bindparam("b_id"),
        _STILL_PENDING,
        messages.c.lease_owner == bindparam("b_worker"),
    )
    .values(
        status=bindparam("b_status"),
        attempt_count=bindparam("b_attempts"),
        schedule_position=bindparam("b_position"),
        next_attempt_at=bindparam("b_next"),
        lease_owner=None,
        lease_expires_at=None,
        last_status_code=bindparam("b_code"),
        last_error=bindparam("b_error"),
        was_exhausted=bindparam("b_exhausted"),
        updated_at=bindparam("b_now"),
    )
)


def _success_row(item: Recorded, now: datetime) -> dict[str, Any]:
    return {"b_id": item.message.id, "b_code": item.result.status_code, "b_now": now}


def _failure_row(worker: str, item: Recorded, now: datetime) -> dict[str, Any]:
    message, result = item.message, item.result
    position = message.schedule_position + 1
    delay = next_delay(item.schedule, position)
    if delay is not None and result.retry_after is not None:
        delay = max(delay, result.retry_after)
    exhausted = delay is None
    return {
        "b_id": message.id,
        "b_worker": worker,
        "b_status": "failed" if exhausted else "pending",
        "b_attempts": message.attempt_count + 1,
        "b_position": position,
        "b_next": None if delay is None else now + delay,
        "b_code": result.status_code,
        "b_error": (result.error or result.outcome.value)[:_ERROR_CHARS],
        "b_exhausted": exhausted or message.was_exhausted,
        "b_now": now,
    }


def _attempt_row(worker: str, item: Recorded) -> tuple[Any, ...]:
    """An attempt's values in `_ATTEMPT_COLUMNS` order."""
    message, result = item.message, item.result
    return (
        new_id("atm"),
        message.id,
        message.endpoint_id,
        message.environment_id,
        message.attempt_count + 1,
        result.outcome.value,
        result.status_code,
        round(result.duration_ms, 3),
        result.error[:_ERROR_CHARS] if result.error else None,
        result.response_headers,
        result.response_body,
        worker,
        item.started_at,
    )


def _notice(event_type: str, item: Recorded, now: datetime) -> tuple[str, EventDraft]:
    message, result = item.message, item.result
    stamp_field = "recovered_at" if event_type.endswith("recovered") else "exhausted_at"
    return (
        message.environment_id,
        EventDraft(
            type=event_type,
            data={
                "message_id": message.id,
                "endpoint_id": message.endpoint_id,
                "event_id": message.event_id,
                "event_type": message.event_type,
                "attempts": message.attempt_count + 1,
                "last_status_code": result.status_code,
                "last_error": result.error[:_ERROR_CHARS] if result.error else None,
                stamp_field: rfc3339(now),
            },
        ),
    )


# SQLite: a whole batch per statement, its rows passed as one JSON array (`json_each`):
# the sqlite3 module releases the GIL around every row it steps, and under a busy event
# loop each release is a thread switch, so per-row statements cost far more than SQLite.
# The unary + keeps the pending guard off the due index (SQLite's documented way to
# disqualify a term): used, it made SQLite walk every pending message and test it against
# the batch, the writer's largest cost with a backlog; the ids go by primary key.
SQLITE_SUCCESS = """
UPDATE messages SET status = 'succeeded', attempt_count = attempt_count + 1,
    schedule_position = schedule_position + 1, next_attempt_at = NULL, lease_owner = NULL,
    lease_expires_at = NULL, last_status_code = ?, last_error = NULL, updated_at = ?
WHERE id IN (SELECT value FROM json_each(?)) AND +status = 'pending'
"""
_ATTEMPT_COLUMNS = (
    "id", "message_id", "endpoint_id", "environment_id", "attempt", "outcome", "status_code",
    "duration_ms", "error", "response_headers", "response_body", "worker", "started_at",
)  # fmt: skip
_SQLITE_ATTEMPTS_HEAD = (
    "INSERT INTO message_attempts (id, message_id, endpoint_id, environment_id, attempt,"
    " outcome, status_code, duration_ms, error, response_headers, response_body, worker,"
    " started_at) VALUES "
)
_SQLITE_ROW_MARKS = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_SQLITE_ROWS_PER_INSERT = 2000  # 13 parameters each, under SQLite's 32 766


def _record_sqlite(
    conn: Connection, successes: list[dict[str, Any]], attempts: list[tuple[Any, ...]]
) -> None:
    by_code: dict[int | None, list[str]] = defaultdict(list)
    for r in successes:
        by_code[r["b_code"]].append(r["b_id"])
    for code, ids in by_code.items():
        stamp = sqlite_utc_text(successes[0]["b_now"])
        conn.exec_driver_sql(SQLITE_SUCCESS, (code, stamp, orjson.dumps(ids).decode()))
    # One multi-row INSERT per chunk: one statement step instead of one per row.
    for start in range(0, len(attempts), _SQLITE_ROWS_PER_INSERT):
        chunk = attempts[start : start + _SQLITE_ROWS_PER_INSERT]
        params: list[Any] = []
        for attempt in chunk:
            params.extend(attempt[:9])
            headers = attempt[9]
            # Stored as JSON text, as the JSON column type does.
            params.append(orjson.dumps(headers).decode() if headers is not None else None)
            params.extend((attempt[10], attempt[11], sqlite_utc_text(attempt[12])))
        sql = _SQLITE_ATTEMPTS_HEAD + ", ".join([_SQLITE_ROW_MARKS] * len(chunk))
        conn.exec_driver_sql(sql, tuple(params))
