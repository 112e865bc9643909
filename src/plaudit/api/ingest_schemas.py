"""Request and response bodies of sources, receipts, rejects and replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from plaudit.api.schemas import StrictModel
from plaudit.ingest.models import Source
from plaudit.ingest.verification import public_view


class SourceIn(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["webhook"] = "webhook"
    record_type: Literal["employee", "transaction", "event"]
    template: str = Field(min_length=1, max_length=20_000, description="JSONata; `$` is a record")
    verification: dict[str, Any] = Field(
        description=(
            '{"type": "hmac" | "standard_webhooks" | "basic_auth" | "api_key" | "none", ...}; '
            "`secret` optional (generated when left out)"
        )
    )
    dedupe: dict[str, Any] = Field(
        default_factory=lambda: {"type": "none"},
        description='{"type": "header", "header"} | {"type": "path", "path": "$.id"} | '
        '{"type": "body_hash"} | {"type": "none"}',
    )


class SourcePatch(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    template: str | None = Field(default=None, min_length=1, max_length=20_000)
    dedupe: dict[str, Any] | None = None


class SourceOut(BaseModel):
    id: str
    name: str
    kind: str
    record_type: str
    status: str
    ingest_url: str | None
    verification: dict[str, Any] = Field(description="The scheme; secrets shown as hints only")
    dedupe: dict[str, Any]
    template: str
    template_version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, source: Source, base_url: str) -> SourceOut:
        path = source.ingest_path
        return cls(
            id=source.id,
            name=source.name,
            kind=source.kind,
            record_type=source.record_type,
            status=source.status,
            ingest_url=None if path is None else base_url.rstrip("/") + path,
            verification=public_view(source.verification),
            dedupe=source.dedupe.model_dump(mode="json"),
            template=source.template,
            template_version=source.template_version,
            created_at=source.created_at,
            updated_at=source.updated_at,
        )


class SourceCreated(SourceOut):
    secret: str | None = Field(description="Shown once; null for verification `none`")


class RotateIn(StrictModel):
    overlap_s: int = Field(
        default=86_400, ge=0, le=30 * 86_400, description="How long the old secret still verifies"
    )


class TemplateVersionOut(BaseModel):
    version: int
    template: str
    created_at: datetime


class PreviewIn(StrictModel):
    sample: Any = Field(description="A body: parsed JSON, or the raw text (CSV, JSON lines)")
    content_type: str | None = Field(default=None, max_length=200)
    template: str | None = Field(
        default=None, max_length=20_000, description="Preview a draft instead of the saved one"
    )


class ReplayIn(StrictModel):
    record_ids: list[str] | None = Field(default=None, max_length=1000)
    stage: str | None = Field(default=None, max_length=20)
    reason_code: str | None = Field(default=None, max_length=60)
    request_id: str | None = Field(default=None, max_length=40)
    all: bool = Field(default=False, description="Replay every reject of the source")


class ReplayOut(BaseModel):
    replayed: int
    loaded: int
    rejected: int
    duplicates: int
    not_replayable: int
    template_version: int


class ReceiptOut(BaseModel):
    id: str
    source_id: str
    received_at: datetime
    status: str
    reject_code: str | None
    reject_reason: str | None
    content_type: str | None
    size: int
    records: int
    loaded: int
    rejected: int
    duplicates: int
    processed_at: datetime | None


class RecordOut(BaseModel):
    id: str
    request_id: str
    position: int
    status: str
    stage: str | None
    reason_code: str | None
    reason: str | None
    dedupe_key: str | None
    template_version: int | None
    target_id: str | None
    attempts: int
    input: dict[str, Any] | None
    raw_text: str | None
    output: Any
    created_at: datetime
    updated_at: datetime


class ReceiptDetailOut(ReceiptOut):
    results: list[RecordOut]
