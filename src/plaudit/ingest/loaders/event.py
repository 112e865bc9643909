"""`event` records -> the event log (and from there, outbound endpoints)."""

from __future__ import annotations

from sqlalchemy import Connection

from plaudit.domain.errors import ClientError
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft
from plaudit.ingest.loaders import LoadContext, RecordWork
from plaudit.ingest.records import EventRecord


class EventLoader:
    def __init__(self, log: EventLog) -> None:
        self._log = log

    def __call__(self, conn: Connection, ctx: LoadContext, items: list[RecordWork]) -> None:
        for item in items:
            record = item.canonical
            assert isinstance(record, EventRecord)
            if record.type not in self._log.catalog:
                # Operational types are Plaudit's own: a source cannot forge them.
                item.reject(
                    "validation", "unknown_event_type", f"unknown event type {record.type!r}"
                )
                continue
            draft = EventDraft(
                type=record.type, data=record.data, idempotency_key=record.idempotency_key
            )
            try:
                prepared = self._log.prepare([draft])
                stored = self._log.store(conn, ctx.environment_id, prepared)[0]
            except ClientError as exc:
                # prepare() writes nothing; store() raises before writing (a reused key).
                item.reject("validation", exc.code, exc.message)
                continue
            item.loaded(stored.id)
            item.details = {"created": stored.created}
