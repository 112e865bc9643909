"""Reading back what happened: receipts (one per request) and records, rejects filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, select

from plaudit.domain.errors import NotFound
from plaudit.ingest.loaders import REJECTED
from plaudit.store.database import Database
from plaudit.store.ingest_tables import ingest_records, ingest_requests
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
            records = conn.execute(
                select(ingest_records)
                .where(ingest_records.c.request_id == request_id)
                .order_by(ingest_records.c.position)
            ).all()
            return {**receipt_json(row), "results": [record_json(r) for r in records]}

        if "\x00" in request_id:
            raise NotFound(f"no receipt {request_id!r}", code="receipt_not_found")
        return await self._db.read_with(unit)

    async def receipts(
        self, environment_id: str, source_id: str, *, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        after = decode_cursor(cursor) if cursor else None

        def unit(conn: Connection) -> list[dict[str, Any]]:
            query = select(ingest_requests).where(
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
