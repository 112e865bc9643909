"""The one path inbound data takes: store raw, verify, parse, dedupe, map, validate, load.

`IngestPipeline.receive(source, raw)` is the entry point for push URLs and, later, pullers
(which hand over the bytes they fetched as a `RawRequest`). Steps:

1. verify on the raw bytes (a failure is stored, then answered 401);
2. store the request exactly as received, in its own commit, before anything else: from here
   on nothing can be lost (a request left `received` by a crash is processed again by
   `process_pending`; a paused source's requests wait as `held`);
3. parse into records, compute dedupe keys, map them with the template (in a worker process,
   bounded), validate each against its record type's schema;
4. in ONE write transaction: claim dedupe keys, load through the record type's loader, write
   every record's outcome and the request's counts. Received = loaded + rejected + duplicates
   for every request, because every record row holds exactly one of those statuses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from plaudit.domain.clock import Clock
from plaudit.domain.ids import new_id
from plaudit.ingest.dedupe import KeyMissing, record_key, request_key
from plaudit.ingest.loaders import DUPLICATE, LOADED, REJECTED, LoadContext, Loader, RecordWork
from plaudit.ingest.models import PAUSED, RawRequest, Receipt, Source, load_source
from plaudit.ingest.parsing import BodyRejected, holds_nul, parse_body, storable_text
from plaudit.ingest.records import RecordInvalid, validate_record
from plaudit.ingest.templates import describe, map_records
from plaudit.ingest.verification import ApiKeyVerification, VerificationFailed, verify
from plaudit.store.bulk import bulk_insert
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.database import Database
from plaudit.store.ingest_tables import ingest_dedupe_keys, ingest_records, ingest_requests
from plaudit.store.membership import one_of

log = logging.getLogger("plaudit.ingest")

RECEIVED, HELD, PROCESSED = "received", "held", "processed"
_RAW_TEXT_CHARS: Final = 65_536
_ATTEMPTS: Final = 3  # a load that lost a race (PostgreSQL unique violation) is planned again


class IngestPipeline:
    def __init__(self, db: Database, clock: Clock, loaders: Mapping[str, Loader]) -> None:
        self._db = db
        self._clock = clock
        self._loaders = loaders

    async def receive(self, source: Source, raw: RawRequest) -> Receipt:
        now = self._clock.now()
        headers = raw.header_map()
        failure: tuple[str, str] | None = None
        if raw.truncated:
            failure = ("payload_too_large", f"the body is larger than the limit ({raw.size} B+)")
        else:
            try:
                verify(source.verification, headers, raw.body, now)
            except VerificationFailed as exc:
                failure = (exc.code, exc.reason)
        status = REJECTED if failure else HELD if source.status == PAUSED else RECEIVED
        request_id = new_id("rcp")
        row = {
            "id": request_id,
            "environment_id": source.environment_id,
            "source_id": source.id,
            "received_at": now,
            "headers": _stored_headers(source, raw.headers),
            "body": b"" if raw.truncated else raw.body,
            "content_type": (raw.content_type or "")[:200] or None,
            "size": raw.size if raw.size is not None else len(raw.body),
            "status": status,
            "reject_code": failure[0] if failure else None,
            "reject_reason": failure[1] if failure else None,
            "records": 0,
            "loaded": 0,
            "rejected": 0,
            "duplicates": 0,
            "processed_at": now if failure else None,
        }
        await self._db.write(lambda conn: conn.execute(ingest_requests.insert(), [row]))
        if failure is not None:
            return Receipt(request_id, REJECTED, reject_code=failure[0], reject_reason=failure[1])
        if status == HELD:
            return Receipt(request_id, HELD)
        return await self.process(source, request_id, headers, raw.body, raw.content_type)

    async def process(
        self,
        source: Source,
        request_id: str,
        headers: Mapping[str, str],
        body: bytes,
        content_type: str | None,
    ) -> Receipt:
        """Turn a stored request into records (its first and only processing)."""
        try:
            parsed = parse_body(content_type, body)
        except BodyRejected as exc:
            item = RecordWork(
                id=new_id("inr"),
                position=0,
                input=None,
                raw_text=storable_text(body[:_RAW_TEXT_CHARS].decode("utf-8", errors="replace")),
                request_id=request_id,
            )
            item.reject("parse", exc.code, exc.reason)
            await self._commit(source, [item], new=True, request_reject=(exc.code, exc.reason))
            return Receipt(
                request_id,
                REJECTED,
                records=1,
                rejected=1,
                reject_code=exc.code,
                reject_reason=exc.reason,
            )
        key = request_key(source.dedupe, headers, body)
        items: list[RecordWork] = []
        for position, record in enumerate(parsed):
            item = RecordWork(
                id=new_id("inr"),
                position=position,
                input=record.value,
                raw_text=record.raw_text,
                request_id=request_id,
            )
            if record.value is None:
                item.reject("parse", "malformed_record", record.error or "unreadable record")
            else:
                try:
                    item.dedupe_key = record_key(source.dedupe, key, record.value, position)
                except KeyMissing as exc:
                    item.reject("dedupe", "missing_dedupe_key", str(exc))
            items.append(item)
        done = await self.transform_and_load(source, items, new=True)
        return _receipt(request_id, done)

    async def transform_and_load(
        self, source: Source, items: Sequence[RecordWork], *, new: bool
    ) -> list[RecordWork]:
        """Map, validate and load `items` (new records, or rejects being replayed)."""
        todo = [item for item in items if item.open]
        mapped = await asyncio.to_thread(map_records, source.template, [i.input for i in todo])
        for item, result in zip(todo, mapped, strict=True):
            item.template_version = source.template_version
            item.output = None
            if result.skipped:
                item.reject(
                    "template",
                    "template_skipped",
                    "not mapped: the template ran out of time on earlier records of this batch",
                )
            elif result.error is not None:
                item.reject("template", *describe(result.error))
            elif holds_nul(result.output):
                item.reject("validation", "invalid_record", "$: the output holds a NUL character")
            else:
                item.output = result.output
                try:
                    item.canonical = validate_record(source.record_type, result.output)
                except RecordInvalid as exc:
                    item.reject("validation", "invalid_record", str(exc))
        return await self._commit(source, items, new=new)

    async def _commit(
        self,
        source: Source,
        items: Sequence[RecordWork],
        *,
        new: bool,
        request_reject: tuple[str, str] | None = None,
    ) -> list[RecordWork]:
        now = self._clock.now()
        loader = self._loaders[source.record_type]

        snapshot = [_outcome(item) for item in items]

        def unit(conn: Connection) -> list[RecordWork]:
            # A retried attempt must not see the last attempt's outcomes.
            for item, before in zip(items, snapshot, strict=True):
                _restore(item, before)
            candidates = [item for item in items if item.open]
            _claim(conn, source.id, candidates, now)
            loadable = [item for item in candidates if item.open]
            if loadable:
                loader(conn, LoadContext(source.environment_id, source.id, now), loadable)
            _release(conn, source.id, [i for i in loadable if i.status == REJECTED])
            for item in items:
                if item.open:  # a loader must decide every record; never drop one silently
                    item.reject("load", "not_loaded", "the loader gave no outcome")
            _write_records(conn, source, items, now, new=new)
            if new:  # the request's records are exactly these: count them here
                _set_counts(conn, items[0].request_id, _tally(items), now, request_reject)
            else:  # replayed records belong to requests with other records too: recount
                for request_id in {item.request_id for item in items}:
                    _set_counts(conn, request_id, _recount(conn, request_id), now, None)
            return list(items)

        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return await self._db.write(unit)
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise
                log.info("ingest load lost a race; planning again", extra={"source": source.id})
        raise AssertionError("unreachable")

    async def recover(self, older_than: timedelta) -> int:
        """Process requests stored but never processed (the process stopped in between)."""
        cutoff = self._clock.now() - older_than
        stale = await self._db.read_with(
            lambda c: c.execute(
                select(ingest_requests.c.source_id, ingest_requests.c.environment_id)
                .where(ingest_requests.c.status == RECEIVED, ingest_requests.c.received_at < cutoff)
                .distinct()
            ).all()
        )
        done = 0
        for source_id, environment_id in stale:
            done += await self.process_pending(source_id, environment_id, statuses=(RECEIVED,))
        return done

    async def process_pending(
        self,
        source_id: str,
        environment_id: str,
        *,
        statuses: tuple[str, ...] = (RECEIVED, HELD),
    ) -> int:
        """Process a source's requests still `received` or `held` (after a resume or a crash)."""
        source = await self._db.read_with(
            lambda c: load_source(c, source_id=source_id, environment_id=environment_id)
        )
        if source is None or source.status == PAUSED:
            return 0
        rows = await self._db.read_with(
            lambda c: c.execute(
                select(ingest_requests)
                .where(
                    ingest_requests.c.source_id == source_id,
                    ingest_requests.c.status.in_(statuses),
                )
                .order_by(ingest_requests.c.id)
            ).all()
        )
        for row in rows:
            headers = {str(name).lower(): str(value) for name, value in row.headers}
            await self.process(source, row.id, headers, row.body, row.content_type)
        return len(rows)


_CREDENTIAL_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})


def _stored_headers(source: Source, headers: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Headers as received, credentials masked: a stored request must not hold a password."""
    secret_names = set(_CREDENTIAL_HEADERS)
    if isinstance(source.verification, ApiKeyVerification):
        secret_names.add(source.verification.header.lower())
    return [
        [name, "[redacted]" if name.lower() in secret_names else value] for name, value in headers
    ]


def _claim(conn: Connection, source_id: str, items: Sequence[RecordWork], now: datetime) -> None:
    """Claim each item's dedupe key; an item whose key is already held is a duplicate."""
    first: dict[str, RecordWork] = {}
    for item in items:
        if item.dedupe_key is None:
            continue
        earlier = first.setdefault(item.dedupe_key, item)
        if earlier is not item:
            _duplicate(item, earlier.id)
    if not first:
        return
    holders = _holders(conn, source_id, list(first))
    rows = [
        {"source_id": source_id, "key": key, "record_id": item.id, "created_at": now}
        for key, item in first.items()
        if key not in holders
    ]
    if conn.dialect.name == "sqlite":
        # One writer at a time: nobody can claim a key between the read above and here.
        bulk_insert(conn, ingest_dedupe_keys, rows)
    elif rows:
        # Concurrent transactions: the unique key decides; a loser waits for the winner's
        # commit, then sees the key taken.
        statement = insert_or_ignore(conn, ingest_dedupe_keys).returning(ingest_dedupe_keys.c.key)
        claimed = {key for (key,) in conn.execute(statement, rows)}
        lost = [str(row["key"]) for row in rows if row["key"] not in claimed]
        holders.update(_holders(conn, source_id, lost) if lost else {})
    for key, holder_id in holders.items():
        _duplicate(first[key], holder_id)


def _holders(conn: Connection, source_id: str, keys: Sequence[str]) -> dict[str, str]:
    """The record holding each of `keys` that is already claimed."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        rows = conn.execute(
            select(ingest_dedupe_keys.c.key, ingest_dedupe_keys.c.record_id).where(
                ingest_dedupe_keys.c.source_id == source_id,
                one_of(conn, ingest_dedupe_keys.c.key, keys[start : start + 500]),
            )
        )
        found.update((str(key), str(record_id)) for key, record_id in rows)
    return found


def _duplicate(item: RecordWork, holder_id: str) -> None:
    item.status, item.stage = DUPLICATE, "dedupe"
    item.reason_code, item.reason = "duplicate", f"already received as {holder_id}"
    item.target_id = None


def _release(conn: Connection, source_id: str, rejected: Sequence[RecordWork]) -> None:
    """A record that did not load gives its key back, so a corrected resend can load."""
    keyed = [(item.dedupe_key, item.id) for item in rejected if item.dedupe_key is not None]
    for start in range(0, len(keyed), 500):
        chunk = keyed[start : start + 500]
        conn.execute(
            delete(ingest_dedupe_keys).where(
                ingest_dedupe_keys.c.source_id == source_id,
                ingest_dedupe_keys.c.key.in_([key for key, _ in chunk]),
                ingest_dedupe_keys.c.record_id.in_([record_id for _, record_id in chunk]),
            )
        )


def _outcome_columns(item: RecordWork, now: datetime) -> dict[str, Any]:
    return {
        # The mapped output is kept for rejects (to see what the template made); a loaded
        # record's result is the row it loaded into (`target_id`).
        "output": item.output if item.status == REJECTED else None,
        "dedupe_key": item.dedupe_key,
        "status": item.status,
        "stage": item.stage,
        "reason_code": item.reason_code,
        "reason": item.reason,
        "template_version": item.template_version,
        "target_id": item.target_id,
        "updated_at": now,
    }


def _write_records(
    conn: Connection, source: Source, work: Sequence[RecordWork], now: datetime, *, new: bool
) -> None:
    if new:
        bulk_insert(
            conn,
            ingest_records,
            [
                {
                    **_outcome_columns(item, now),
                    "id": item.id,
                    "environment_id": source.environment_id,
                    "source_id": source.id,
                    "request_id": item.request_id,
                    "position": item.position,
                    # Input is kept where a replay needs it; the raw body holds every record.
                    "input": item.input if item.status == REJECTED else None,
                    "raw_text": item.raw_text,
                    "attempts": 1,
                    "created_at": now,
                }
                for item in work
            ],
        )
        return
    for item in work:
        conn.execute(
            update(ingest_records)
            .where(ingest_records.c.id == item.id)
            .values(**_outcome_columns(item, now), attempts=ingest_records.c.attempts + 1)
        )


def _outcome(item: RecordWork) -> tuple[Any, ...]:
    return (item.status, item.stage, item.reason_code, item.reason, item.target_id, item.details)


def _restore(item: RecordWork, saved: tuple[Any, ...]) -> None:
    item.status, item.stage, item.reason_code, item.reason, item.target_id, item.details = saved


def _tally(items: Sequence[RecordWork]) -> dict[str, int]:
    statuses = [item.status for item in items]
    return {status: statuses.count(status) for status in (LOADED, REJECTED, DUPLICATE)}


def _recount(conn: Connection, request_id: str) -> dict[str, int]:
    """Counts from the stored rows: they can never drift from the records."""
    return dict(
        conn.execute(
            select(ingest_records.c.status, func.count())
            .where(ingest_records.c.request_id == request_id)
            .group_by(ingest_records.c.status)
        ).all()
    )


def _set_counts(
    conn: Connection,
    request_id: str,
    tally: Mapping[str, int],
    now: datetime,
    request_reject: tuple[str, str] | None,
) -> None:
    values: dict[str, Any] = {
        "records": sum(tally.values()),
        "loaded": tally.get(LOADED, 0),
        "rejected": tally.get(REJECTED, 0),
        "duplicates": tally.get(DUPLICATE, 0),
    }
    if request_reject is not None:
        values.update(status=REJECTED, reject_code=request_reject[0])
        values.update(reject_reason=request_reject[1], processed_at=now)
    else:  # first processing marks it processed; a replay leaves status and time alone
        # Two comparisons, not IN: an IN list is re-rendered on every call.
        status = ingest_requests.c.status
        pending = or_(status == RECEIVED, status == HELD)
        values["status"] = case((pending, PROCESSED), else_=ingest_requests.c.status)
        values["processed_at"] = case((pending, now), else_=ingest_requests.c.processed_at)
    conn.execute(update(ingest_requests).where(ingest_requests.c.id == request_id).values(**values))


def _receipt(request_id: str, work: Sequence[RecordWork]) -> Receipt:
    statuses = [item.status for item in work]
    return Receipt(
        request_id,
        PROCESSED,
        records=len(work),
        loaded=statuses.count(LOADED),
        rejected=statuses.count(REJECTED),
        duplicates=statuses.count(DUPLICATE),
    )
