"""Request and response bodies of the badge, recognition, shoutout and giving-budget routes.

Text rules (blank, length, storable characters) are the services' to enforce, so direct
callers get them too; these models fix the shapes and the id syntax.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt

from plaudit.api.schemas import StrictModel
from plaudit.domain.errors import ValidationFailed

# Plaudit ids are ASCII letters, digits and underscores; anything else cannot name a row.
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")]


class BadgeIn(StrictModel):
    name: str = Field(max_length=1000, examples=["Customer Hero"])
    description: str | None = Field(default=None, max_length=5000)
    icon_url: str | None = Field(default=None, max_length=4096)
    active: bool = True


class BadgePatch(StrictModel):
    name: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=5000)
    icon_url: str | None = Field(default=None, max_length=4096)
    active: bool | None = Field(default=None, description="false retires the badge")

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent; `null` clears description and icon_url."""
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is None and name in ("name", "active"):
                raise ValidationFailed(f"`{name}` cannot be null", details={"field": name})
            out[name] = value
        return out


class BadgeOut(BaseModel):
    id: str
    name: str
    description: str | None
    icon_url: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class RecognitionIn(StrictModel):
    giver_id: Id
    receiver_ids: list[Id] = Field(max_length=1000)
    message: str = Field(max_length=50_000)
    badge_id: Id | None = None
    points: StrictInt | None = Field(
        default=None, description="Per receiver, at least 1; omit for a recognition without"
    )
    company_value: str | None = Field(default=None, max_length=1000)


class RecognitionOut(BaseModel):
    id: str
    giver_id: str
    receiver_ids: list[str] = Field(description="Sorted by id")
    message: str
    badge_id: str | None
    company_value: str | None
    points_per_receiver: int
    total_points: int
    created_at: datetime


class ShoutoutIn(StrictModel):
    author_id: Id
    message: str = Field(max_length=50_000)
    mention_ids: list[Id] = Field(default_factory=list, max_length=1000)


class ShoutoutOut(BaseModel):
    id: str
    author_id: str
    message: str
    mention_ids: list[str] = Field(description="Sorted by id")
    created_at: datetime


class GivingBudgetOut(BaseModel):
    employee_id: str
    month: str = Field(description="The calendar month (UTC) the figures are for, YYYY-MM")
    budget: int | None = Field(description="Points per month; null = no cap")
    given: int
    remaining: int | None = Field(description="null when there is no cap")
