"""Reading back what happened: receipts (one per request) and records, rejects filtered."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, Final

from sqlalchemy import Connection, Select, select

from plaudit.domain.errors import InvalidRequest, NotFound
from plaudit.ingest import loaded_results
from plaudit.ingest.loaders import LOADED, REJECTED
from plaudit.store.database import Database
from plaudit.store.ingest_tables import ingest_records, ingest_requests
from plaudit.store.membership import one_of
from plaudit.store.pagination import Cursor, Page, decode_cursor, encode_cursor


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Which records: all set fields must match."""

    source_id: str
    status: str | None = REJECTED
    stage: str | None = None
    reason_code: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def includes_loaded(self) -> bool:
        """Whether loaded records (kept on their request rows) can match."""
        return self.status in (None, LOADED) and self.stage is None and self.reason_code is None

    def admits(self, record: dict[str, Any]) -> bool:
        """Whether an expanded loaded record matches (source and request already do)."""
        created: datetime = record["created_at"]
        return (
            self.status in (None, record["status"])
            and (self.since is None or created >= self.since)
            and (self.until is None or created < self.until)
        )

    def where(self, query: Select[Any]) -> Select[Any]:
        c = ingest_records.c
        query = query.where(c.source_id == self.source_id)
        for column, value in (
            (c.status, self.status),
            (c.stage, self.stage),
            (c.reason_code, self.reason_code),
            (c.request_id, self.request_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if self.since is not None:
            query = query.where(c.created_at >= self.since)
        if self.until is not None:
            query = query.where(c.created_at < self.until)
        return query


_REQUESTS_PER_STEP: Final = 50
# A receipts page needs neither the bodies nor the loaded records' results.
_RECEIPT_COLUMNS: Final = tuple(
    column for column in ingest_requests.c if column.name not in ("body", "loaded_results")
)


def _request_position(cursor_id: str) -> tuple[str, int]:
    """(request id, position) of a by-request cursor."""
    request_id, _, position = cursor_id.rpartition("/")
    if not request_id or not position.isdigit():
        raise InvalidRequest("cursor is not one this API issued", code="invalid_cursor")
    return request_id, int(position)


def record_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "request_id": row.request_id,
        "position": row.position,
        "status": row.status,
        "stage": row.stage,
        "reason_code": row.reason_code,
        "reason": row.reason,
        "dedupe_key": row.dedupe_key,
        "template_version": row.template_version,
        "target_id": row.target_id,
        "attempts": row.attempts,
        "input": row.input,
        "raw_text": row.raw_text,
        "output": row.output,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def receipt_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "source_id": row.source_id,
        "received_at": row.received_at,
        "status": row.status,
        "reject_code": row.reject_code,
        "reject_reason": row.reject_reason,
        "content_type": row.content_type,
        "size": row.size,
        "records": row.records,
        "loaded": row.loaded,
        "rejected": row.rejected,
        "duplicates": row.duplicates,
        "processed_at": row.processed_at,
    }


class IngestQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def records(
        self, environment_id: str, filters: RecordFilter, *, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        if filters.includes_loaded:
            return await self._records_by_request(environment_id, filters, limit, cursor)
        after = decode_cursor(cursor) if cursor else None

        def unit(conn: Connection) -> list[dict[str, Any]]:
            query = filters.where(
                select(ingest_records).where(ingest_records.c.environment_id == environment_id)
            )
            if after is not None:
                query = query.where(ingest_records.c.id > after.after_id)
            rows = conn.execute(query.order_by(ingest_records.c.id).limit(limit + 1)).all()
            return [record_json(row) for row in rows]

        found = await self._db.read_with(unit)
        items = found[:limit]
        more = len(found) > limit
        return Page(items, encode_cursor(Cursor(items[-1]["id"], "asc")) if more else None)

    async def _records_by_request(
        self, environment_id: str, filters: RecordFilter, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        """Records that may include loaded ones, in request then position order.

        Loaded records live on their request row (`loaded_results`), so the list walks the
        source's requests in id order and merges each one's stored and loaded records.
        """
        after = _request_position(decode_cursor(cursor).after_id) if cursor else ("", -1)

        def unit(conn: Connection) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            request_after, position_after = after
            while len(found) <= limit:
                query = select(
                    ingest_requests.c.id,
                    ingest_requests.c.processed_at,
                    ingest_requests.c.loaded_results,
                ).where(
                    ingest_requests.c.environment_id == environment_id,
                    ingest_requests.c.source_id == filters.source_id,
                    ingest_requests.c.id >= request_after,
                )
                if filters.request_id is not None:
                    query = query.where(ingest_requests.c.id == filters.request_id)
                requests = conn.execute(
                    query.order_by(ingest_requests.c.id).limit(_REQUESTS_PER_STEP)
                ).all()
                if not requests:
                    break
                stored = conn.execute(
                    filters.where(
                        select(ingest_records).where(
                            ingest_records.c.environment_id == environment_id,
                            one_of(conn, ingest_records.c.request_id, [r.id for r in requests]),
                        )
                    )
                ).all()
                step = [record_json(row) for row in stored] + [
                    entry
                    for request in requests
                    for entry in loaded_results.unpack(request)
                    if filters.admits(entry)
                ]
                found.extend(
                    sorted(
                        (
                            entry
                            for entry in step
                            if (entry["request_id"], entry["position"])
                            > (request_after, position_after)
                        ),
                        key=itemgetter("request_id", "position"),
                    )
                )
                if len(requests) < _REQUESTS_PER_STEP:
                    break
                request_after, position_after = requests[-1].id, sys.maxsize
            return found[: limit + 1]

        found = await self._db.read_with(unit)
        items = found[:limit]
        if len(found) <= limit:
            return Page(items, None)
        last = items[-1]
        return Page(items, encode_cursor(Cursor(f"{last['request_id']}/{last['position']}", "asc")))

    async def receipt(self, environment_id: str, request_id: str) -> dict[str, Any]:
        def unit(conn: Connection) -> dict[str, Any]:
            row = conn.execute(
                select(ingest_requests).where(
                    ingest_requests.c.environment_id == environment_id,
                    ingest_requests.c.id == request_id,
                )
            ).first()
            if row is None:
                raise NotFound(f"no receipt {request_id!r}", code="receipt_not_found")
            stored = conn.execute(
                select(ingest_records).where(ingest_records.c.request_id == request_id)
            ).all()
            results = [record_json(r) for r in stored] + loaded_results.unpack(row)
            results.sort(key=itemgetter("position"))
            return {**receipt_json(row), "results": results}

        if "\x00" in request_id:
            raise NotFound(f"no receipt {request_id!r}", code="receipt_not_found")
        return await self._db.read_with(unit)

    async def receipts(
        self, environment_id: str, source_id: str, *, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        after = decode_cursor(cursor) if cursor else None

        def unit(conn: Connection) -> list[dict[str, Any]]:
            query = select(*_RECEIPT_COLUMNS).where(
                ingest_requests.c.environment_id == environment_id,
                ingest_requests.c.source_id == source_id,
            )
            if after is not None:
                query = query.where(ingest_requests.c.id < after.after_id)
            rows = conn.execute(query.order_by(ingest_requests.c.id.desc()).limit(limit + 1))
            return [receipt_json(row) for row in rows]

        found = await self._db.read_with(unit)
        items = found[:limit]
        more = len(found) > limit
        return Page(items, encode_cursor(Cursor(items[-1]["id"], "desc")) if more else None)
