"""Request and response bodies of the admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from plaudit.events.models import StoredEvent

T = TypeVar("T")


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ListResponse(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page")


class EventTypeOut(BaseModel):
    name: str
    category: str
    description: str
    version: int
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")
    example: dict[str, Any]

    model_config = ConfigDict(populate_by_name=True)


class PublishEventIn(StrictModel):
    type: str = Field(min_length=1, max_length=100, examples=["recognition.awarded"])
    data: dict[str, Any] = Field(description="Must validate against the type's JSON Schema")
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Repeating a key returns the first event and stores nothing new",
    )


class EventOut(BaseModel):
    id: str
    type: str
    schema_version: int
    data: dict[str, Any]
    is_test: bool
    idempotency_key: str | None
    created_at: datetime

    @classmethod
    def of(cls, event: StoredEvent) -> EventOut:
        return cls(
            id=event.id,
            type=event.type,
            schema_version=event.schema_version,
            data=dict(event.data),
            is_test=event.is_test,
            idempotency_key=event.idempotency_key,
            created_at=event.created_at,
        )
