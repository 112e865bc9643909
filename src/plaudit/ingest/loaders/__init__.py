"""Loaders: put validated canonical records into the domain, inside the loading transaction.

Each loader takes the batch's `RecordWork` items (all of one source, so one record type) and
marks each loaded (with the id it loaded into) or rejected (with a reason). They run inside
one write transaction together with the records' bookkeeping, so a record is never half
loaded: if anything raises, the batch and its bookkeeping roll back together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import Connection

LOADED = "loaded"
REJECTED = "rejected"
DUPLICATE = "duplicate"


@dataclass(slots=True)
class RecordWork:
    """One record on its way through the pipeline, and what became of it."""

    id: str
    position: int
    input: dict[str, Any] | None
    raw_text: str | None = None
    request_id: str = ""
    output: Any = None
    canonical: BaseModel | None = None
    dedupe_key: str | None = None
    template_version: int | None = None
    status: str | None = None  # set once decided: loaded | rejected | duplicate
    stage: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    target_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.status is None

    def reject(self, stage: str, code: str, reason: str) -> None:
        self.status, self.stage, self.reason_code, self.reason = REJECTED, stage, code, reason

    def loaded(self, target_id: str | None) -> None:
        self.status, self.target_id = LOADED, target_id
        self.stage = self.reason_code = self.reason = None


@dataclass(frozen=True, slots=True)
class LoadContext:
    environment_id: str
    source_id: str
    now: datetime


class Loader(Protocol):
    def __call__(self, conn: Connection, ctx: LoadContext, items: list[RecordWork]) -> None: ...
