"""Values of the inbound side: a source as stored, a raw request as received, a receipt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from plaudit.ingest.dedupe import DEDUPE, Dedupe
from plaudit.ingest.verification import VERIFICATION, Verification
from plaudit.store.ingest_tables import ingest_sources, ingest_templates

ACTIVE = "active"
PAUSED = "paused"
DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    environment_id: str
    name: str
    kind: str
    record_type: str
    status: str
    token: str | None
    verification: Verification
    dedupe: Dedupe
    template_version: int
    template: str
    created_at: datetime
    updated_at: datetime

    @property
    def ingest_path(self) -> str | None:
        return None if self.token is None else f"/ingest/{self.token}"


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request as it arrived (a push) or as a puller fetched it: bytes plus metadata.

    `truncated` means the body went over the size limit and only `size` is known.
    """

    headers: Sequence[tuple[str, str]]
    body: bytes
    content_type: str | None = None
    size: int | None = None
    truncated: bool = False

    def header_map(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers}


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the sender is told: the request's id, its status and record counts."""

    id: str
    status: str  # processed | held | rejected
    records: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates: int = 0
    reject_code: str | None = None
    reject_reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return self.loaded + self.duplicates


def source_from_row(row: Any, template: str) -> Source:
    return Source(
        id=row.id,
        environment_id=row.environment_id,
        name=row.name,
        kind=row.kind,
        record_type=row.record_type,
        status=row.status,
        token=row.token,
        verification=VERIFICATION.validate_python(row.verification),
        dedupe=DEDUPE.validate_python(row.dedupe),
        template_version=row.template_version,
        template=template,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def load_source(
    conn: Connection,
    *,
    source_id: str | None = None,
    token: str | None = None,
    environment_id: str | None = None,
) -> Source | None:
    """A live (not deleted) source by id (within an environment) or by push token."""
    query = select(ingest_sources, ingest_templates.c.template).join(
        ingest_templates,
        (ingest_templates.c.source_id == ingest_sources.c.id)
        & (ingest_templates.c.version == ingest_sources.c.template_version),
    )
    if token is not None:
        query = query.where(ingest_sources.c.token == token)
    else:
        query = query.where(
            ingest_sources.c.id == source_id, ingest_sources.c.environment_id == environment_id
        )
    row = conn.execute(query.where(ingest_sources.c.status != DELETED)).first()
    return None if row is None else source_from_row(row, row.template)
