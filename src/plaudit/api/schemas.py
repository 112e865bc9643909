"""Request and response bodies of the admin API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from plaudit.events.models import StoredEvent
from plaudit.store.pagination import MAX_PAGE_SIZE, Page

T = TypeVar("T")
Item = TypeVar("Item")

# The query parameters of every list route.
PageLimit = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE}")
]
PageCursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page")
]


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ListResponse(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page")

    @classmethod
    def of(cls, page: Page[Item], out: Callable[[Item], T]) -> Self:
        """The API's view of a service's page, each item shown by `out`."""
        return cls(
            data=[out(item) for item in page.items],
            has_more=page.has_more,
            next_cursor=page.next_cursor,
        )


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
