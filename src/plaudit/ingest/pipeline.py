"""The one path inbound data takes: store raw, verify, parse, dedupe, map, validate, load.

`IngestPipeline.receive(source, raw)` is the entry point for push URLs and, later, pullers
(which hand over the bytes they fetched as a `RawRequest`). Steps:

1. verify on the raw bytes (a failure is stored, then answered 401);
2. store the request exactly as received, in its own commit, before anything else: from here
   on nothing can be lost (a request left `received` by a crash is processed again by
   `process_pending`; a paused source's requests wait as `held`);
3. parse into records, compute dedupe keys, map them with the template (in a worker process,
   bounded), validate each against its record type's schema;
4. in ONE write transaction: claim the request (only a `received` or `held` one: it is never
   processed twice), claim dedupe keys, load through the record type's loader, write every
   record's outcome (a row for a reject or duplicate, an entry in the request's
   `loaded_results` for a loaded one) and the request's counts. Received = loaded + rejected
   + duplicates for every request, because every record holds exactly one of those statuses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from plaudit.domain.clock import Clock
from plaudit.domain.ids import new_id
from plaudit.ingest import loaded_results
from plaudit.ingest.dedupe import KeyMissing, record_key, request_key
from plaudit.ingest.dedupe_claims import claim, release
from plaudit.ingest.loaders import DUPLICATE, LOADED, REJECTED, LoadContext, Loader, RecordWork
from plaudit.ingest.models import PAUSED, RawRequest, Receipt, Source, load_source
from plaudit.ingest.outcomes import (
    HELD,
    PROCESSED,
    RECEIVED,
    AlreadyProcessed,
    claim_request,
    recount,
    set_counts,
    tally,
    write_records,
)
from plaudit.ingest.parsing import BodyRejected, holds_nul, parse_body, storable_text
from plaudit.ingest.records import RecordInvalid, validate_record
from plaudit.ingest.templates import describe, map_records
from plaudit.ingest.verification import ApiKeyVerification, VerificationFailed, verify
from plaudit.store.database import Database
from plaudit.store.ingest_tables import ingest_requests

log = logging.getLogger("plaudit.ingest")

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
            if new:
                claim_request(conn, items[0].request_id, now)
            candidates = [item for item in items if item.open]
            claim(conn, source.id, candidates, now)
            loadable = [item for item in candidates if item.open]
            if loadable:
                loader(conn, LoadContext(source.environment_id, source.id, now), loadable)
            release(conn, source.id, [i for i in loadable if i.status == REJECTED])
            for item in items:
                if item.open:  # a loader must decide every record; never drop one silently
                    item.reject("load", "not_loaded", "the loader gave no outcome")
            write_records(conn, source, items, now, new=new)
            if new:  # the request's records are exactly these: count them here
                packed = loaded_results.pack(items)
                set_counts(
                    conn,
                    items[0].request_id,
                    tally(items),
                    now,
                    loaded=packed,
                    request_reject=request_reject,
                )
            else:  # replayed records belong to requests with other records too: recount
                for request_id in {item.request_id for item in items}:
                    set_counts(conn, request_id, recount(conn, request_id), now)
            return list(items)

        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return await self._db.write(unit)
            except AlreadyProcessed:
                log.info("request already processed", extra={"request": items[0].request_id})
                return []
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


def _outcome(item: RecordWork) -> tuple[Any, ...]:
    return (item.status, item.stage, item.reason_code, item.reason, item.target_id, item.details)


def _restore(item: RecordWork, saved: tuple[Any, ...]) -> None:
    item.status, item.stage, item.reason_code, item.reason, item.target_id, item.details = saved


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
