"""Request bodies of the endpoint, message and recovery routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from plaudit.api.schemas import StrictModel
from plaudit.domain.errors import ValidationFailed


class FieldsIn(StrictModel):
    include: list[str] | None = Field(default=None, max_length=100)
    exclude: list[str] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _one_of(self) -> FieldsIn:
        if (self.include is None) == (self.exclude is None):
            raise ValueError("give exactly one of `include` or `exclude`")
        return self

    def as_config(self) -> dict[str, list[str]]:
        return (
            {"include": self.include}
            if self.include is not None
            else {"exclude": self.exclude or []}
        )


class _EndpointFields(StrictModel):
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(
        default_factory=list, max_length=100, description="Empty: every catalog event type"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Sent with every request")
    rate_limit_per_s: float | None = Field(default=None, gt=0, le=10_000)
    timeout_s: float = Field(default=15.0, ge=1, le=60)
    fields: FieldsIn | None = Field(default=None, description="Keep or drop paths of the body")
    template: str | None = Field(
        default=None, max_length=20_000, description="JSONata over {type, timestamp, data}"
    )
    retry_schedule: list[float] | None = Field(
        default=None, description="Seconds before each attempt; default 0, 5, 300, ..., 86400"
    )
    enabled: bool = True
    fifo: bool = Field(default=False, description="Strict order: one message at a time")


class EndpointIn(_EndpointFields):
    url: str = Field(max_length=2048, examples=["https://crm.example.com/hooks/plaudit"])
    secret: str | None = Field(default=None, description="Bring your own whsec_ secret")


class EndpointPatch(StrictModel):
    url: str | None = Field(default=None, max_length=2048)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = Field(default=None, max_length=100)
    headers: dict[str, str] | None = None
    rate_limit_per_s: float | None = Field(default=None, gt=0, le=10_000)
    timeout_s: float | None = Field(default=None, ge=1, le=60)
    fields: FieldsIn | None = None
    template: str | None = Field(default=None, max_length=20_000)
    retry_schedule: list[float] | None = None
    enabled: bool | None = None
    fifo: bool | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent; `null` clears the nullable ones."""
        nullable = {"rate_limit_per_s", "fields", "template", "retry_schedule"}
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is None and name not in nullable:
                raise ValidationFailed(f"`{name}` cannot be null", details={"path": name})
            if name == "fields" and value is not None:
                value = value.as_config()
            if name in ("event_types", "retry_schedule") and value is not None:
                value = tuple(value)
            out[name] = value
        return out


class EndpointOut(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    headers: dict[str, str]
    rate_limit_per_s: float | None
    timeout_s: float
    fields: dict[str, list[str]] | None
    template: str | None
    retry_schedule: list[float] | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    paused_until: datetime | None
    fifo: bool
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="whsec_ signing secret; also at GET .../secret")


class SecretOut(BaseModel):
    secret: str


class RotateIn(StrictModel):
    overlap_s: int = Field(default=86_400, ge=0, le=7 * 86_400)
    secret: str | None = None


class RotatedOut(BaseModel):
    secret: str
    previous_valid_until: datetime


class TestIn(StrictModel):
    event_type: str = Field(max_length=100, examples=["recognition.awarded"])


class TestOut(BaseModel):
    event_id: str
    message_id: str


class RecoverIn(StrictModel):
    since: datetime
    until: datetime | None = None


class ReplayIn(StrictModel):
    endpoint_id: str | None = None


class ReplayOut(BaseModel):
    message_ids: list[str]


class JobOut(BaseModel):
    id: str
    kind: str
    params: dict[str, Any]
    status: str
    total: int | None
    processed: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class AttemptOut(BaseModel):
    id: str
    message_id: str
    attempt: int
    outcome: str
    status_code: int | None
    duration_ms: float
    error: str | None
    response_headers: dict[str, str] | None
    response_body: str | None
    started_at: datetime


class MessageOut(BaseModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str = Field(description="pending, succeeded, failed (attempts exhausted), cancelled")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class MessageDetailOut(BaseModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    attempts: list[AttemptOut]


class LatencyOut(BaseModel):
    p50: float | None
    p99: float | None


class EndpointStatsOut(BaseModel):
    endpoint_id: str
    window_s: int
    attempts: int
    successes: int
    success_rate: float | None
    latency_ms: LatencyOut
    backlog: int
    oldest_pending_age_s: float | None
    exhausted: int
