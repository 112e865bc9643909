"""Records that loaded on their request's first processing, kept on the request row.

A loaded record needs no triage and no replay, and its result is small: its id, position,
the row it loaded into and its dedupe key. They are stored as one JSON value on the request
(`ingest_requests.loaded_results`) instead of a row each in `ingest_records`: on SQLite such a
row cost ~25 µs of the writer's time per record (three B-trees, three foreign-key checks),
more than loading the record itself. Readers (receipts, the records list) expand them into
the same shape as a stored record, so a receipt still shows every record's result.

Rejects and duplicates keep their rows (they are listed, filtered and replayed); a reject
that loads on replay stays a row, updated in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from plaudit.ingest.loaders import LOADED, RecordWork

_FORMAT = 1


def pack(items: Sequence[RecordWork]) -> dict[str, Any] | None:
    """The compact form of `items` that loaded (None when none did)."""
    loaded = [item for item in items if item.status == LOADED]
    if not loaded:
        return None
    return {
        "format": _FORMAT,
        # One request is mapped by one template version.
        "template_version": loaded[0].template_version,
        "records": [[i.position, i.id, i.target_id, i.dedupe_key] for i in loaded],
    }


def unpack(request: Any) -> list[dict[str, Any]]:
    """A request row's loaded records, shaped like `rejects.record_json`, by position."""
    packed = request.loaded_results
    if not packed:
        return []
    processed_at: datetime = request.processed_at
    version = packed["template_version"]
    return [
        {
            "id": record_id,
            "request_id": request.id,
            "position": position,
            "status": LOADED,
            "stage": None,
            "reason_code": None,
            "reason": None,
            "dedupe_key": dedupe_key,
            "template_version": version,
            "target_id": target_id,
            "attempts": 1,
            "input": None,
            "raw_text": None,
            "output": None,
            "created_at": processed_at,
            "updated_at": processed_at,
        }
        for position, record_id, target_id, dedupe_key in packed["records"]
    ]


def count(request: Any) -> int:
    packed = request.loaded_results
    return len(packed["records"]) if packed else 0
