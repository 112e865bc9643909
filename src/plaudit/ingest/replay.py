"""Replay: run rejected records again, with the source's current template.

Rejects are replayed in place: the record keeps its id and position, gets the new outcome,
the template version that produced it and `attempts + 1`; its request's counts are recounted.
So received = loaded + rejected + duplicates still holds after any replay. Records that could
not be parsed have no input to map and are reported as not replayable (the sender must send
them again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, select

from plaudit.domain.errors import NotFound
from plaudit.ingest.dedupe import KeyMissing, record_key
from plaudit.ingest.loaders import DUPLICATE, LOADED, REJECTED, RecordWork
from plaudit.ingest.models import Source, load_source
from plaudit.ingest.pipeline import IngestPipeline
from plaudit.ingest.rejects import RecordFilter
from plaudit.store.database import Database
from plaudit.store.ingest_tables import ingest_records

BATCH: Final = 500


@dataclass(frozen=True, slots=True)
class ReplayReport:
    replayed: int
    loaded: int
    rejected: int
    duplicates: int
    not_replayable: int
    template_version: int

    def to_json(self) -> dict[str, Any]:
        return {
            "replayed": self.replayed,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "not_replayable": self.not_replayable,
            "template_version": self.template_version,
        }


class Replayer:
    def __init__(self, db: Database, pipeline: IngestPipeline) -> None:
        self._db = db
        self._pipeline = pipeline

    async def replay(
        self,
        environment_id: str,
        filters: RecordFilter,
        *,
        record_ids: list[str] | None = None,
        max_records: int = 10_000,
    ) -> ReplayReport:
        source = await self._db.read_with(
            lambda c: load_source(c, source_id=filters.source_id, environment_id=environment_id)
        )
        if source is None:
            raise NotFound(f"no source {filters.source_id!r}", code="source_not_found")
        counts = {LOADED: 0, REJECTED: 0, DUPLICATE: 0}
        replayed = not_replayable = 0
        after = ""
        while replayed + not_replayable < max_records:
            rows = await self._db.read_with(_rejects(environment_id, filters, record_ids, after))
            if not rows:
                break
            after = rows[-1].id
            items = [_work(source, row) for row in rows if row.input is not None]
            not_replayable += len(rows) - len(items)
            if items:
                done = await self._pipeline.transform_and_load(source, items, new=False)
                replayed += len(done)
                for item in done:
                    counts[item.status or REJECTED] += 1
        return ReplayReport(
            replayed=replayed,
            loaded=counts[LOADED],
            rejected=counts[REJECTED],
            duplicates=counts[DUPLICATE],
            not_replayable=not_replayable,
            template_version=source.template_version,
        )


def _rejects(
    environment_id: str, filters: RecordFilter, record_ids: list[str] | None, after: str
) -> Callable[[Connection], list[Any]]:
    def unit(conn: Connection) -> list[Any]:
        return _select(conn, environment_id, filters, record_ids, after)

    return unit


def _select(
    conn: Connection,
    environment_id: str,
    filters: RecordFilter,
    record_ids: list[str] | None,
    after: str,
) -> list[Any]:
    query = filters.where(
        select(ingest_records).where(
            ingest_records.c.environment_id == environment_id,
            ingest_records.c.status == REJECTED,  # only rejects are replayed, ever
            ingest_records.c.id > after,
        )
    )
    if record_ids is not None:
        query = query.where(ingest_records.c.id.in_(record_ids))
    return list(conn.execute(query.order_by(ingest_records.c.id).limit(BATCH)).all())


def _work(source: Source, row: Any) -> RecordWork:
    item = RecordWork(
        id=row.id,
        position=row.position,
        input=row.input,
        raw_text=row.raw_text,
        request_id=row.request_id,
        dedupe_key=row.dedupe_key,
    )
    if row.stage == "dedupe":  # it had no key: the record (or the config) may have one now
        try:
            item.dedupe_key = record_key(source.dedupe, None, row.input, row.position)
        except KeyMissing as exc:
            item.reject("dedupe", "missing_dedupe_key", str(exc))
    return item
