"""Response bodies of the Connect API: a public contract for customers' apps.

Every field is documented. Left out on purpose: birth dates (a user shows only the
`birthday` month and day), idempotency keys and anything else internal to an integration.
A user is an employee: the `usr_` id is the one every `employee_id` field names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from plaudit.engagement.employee_views import Employee
from plaudit.engagement.groups import Group
from plaudit.engagement.ledger import PointEntry
from plaudit.engagement.recognition_queries import Recognition
from plaudit.engagement.redemption_records import Redemption
from plaudit.events.models import StoredEvent

_ID = "Opaque, prefixed, sortable id"


class ConnectUser(BaseModel):
    id: str = Field(description=f"{_ID} (`usr_...`)")
    external_id: str | None = Field(description="The HRIS id, unique per environment")
    email: str | None = Field(description="Lower-cased; unique per environment")
    name: str = Field(description="Display name")
    department: str | None = Field(description="Department name, free text")
    location: str | None = Field(description="Location name, free text")
    manager_id: str | None = Field(description="The manager's user id")
    hire_date: str | None = Field(description="YYYY-MM-DD")
    birthday: str | None = Field(
        description="Month and day of birth, MM-DD (the year is never shown)",
        pattern=r"^\d{2}-\d{2}$",
    )
    time_zone: str = Field(description="IANA time zone, e.g. Europe/Paris")
    status: Literal["active", "inactive"] = Field(description="Inactive users cannot take part")
    created_at: datetime = Field(description="RFC 3339, UTC")
    updated_at: datetime = Field(description="RFC 3339, UTC")
    deactivated_at: datetime | None = Field(description="When the user was last deactivated")

    @classmethod
    def of(cls, employee: Employee) -> ConnectUser:
        body = employee.to_json()
        born = employee.record.birth_date
        body.pop("birth_date")
        body["birthday"] = born.strftime("%m-%d") if born is not None else None
        return cls(**body)


class ConnectGroup(BaseModel):
    id: str = Field(description=f"{_ID} (`grp_...`)")
    name: str = Field(description="Unique per environment")
    kind: Literal["team", "department", "location", "custom"] = Field(description="Group kind")
    description: str = Field(description="Free text, may be empty")
    member_count: int = Field(description="Members, active or not")
    created_at: datetime = Field(description="RFC 3339, UTC")
    updated_at: datetime = Field(description="Last change to the group or its members")

    @classmethod
    def of(cls, group: Group) -> ConnectGroup:
        return cls(**group.to_json())


class ConnectRecognition(BaseModel):
    id: str = Field(description=f"{_ID} (`rec_...`)")
    giver_id: str = Field(description="The user who gave it")
    receiver_ids: list[str] = Field(description="The users recognized, sorted by id")
    message: str = Field(description="The giver's message")
    badge_id: str | None = Field(description="The badge attached, if any")
    company_value: str | None = Field(description="The company value cited, if any")
    points_per_receiver: int = Field(description="Points each receiver earned (0: none)")
    total_points: int = Field(description="points_per_receiver times the receivers")
    created_at: datetime = Field(description="RFC 3339, UTC")

    @classmethod
    def of(cls, recognition: Recognition) -> ConnectRecognition:
        return cls(**recognition.to_json())


class ConnectMoney(BaseModel):
    amount: str = Field(description="Decimal string, e.g. 25.00")
    currency: str = Field(description="ISO 4217 code")


class ConnectVoucher(BaseModel):
    id: str = Field(description=f"{_ID} (`vch_...`)")
    code: str = Field(description="The code the user redeems with the provider")
    value: ConnectMoney = Field(description="What the voucher is worth")
    expires_at: datetime | None = Field(description="null: never expires")
    created_at: datetime = Field(description="RFC 3339, UTC")


class ConnectRedemption(BaseModel):
    id: str = Field(description=f"{_ID} (`rdm_...`)")
    employee_id: str = Field(description="The user who redeemed")
    reward_id: str = Field(description="The reward redeemed")
    points_spent: int = Field(description="Points debited from the user")
    point_entry_id: str = Field(description="The debit in the user's points ledger")
    voucher: ConnectVoucher | None = Field(description="The voucher issued, if any")
    created_at: datetime = Field(description="RFC 3339, UTC")

    @classmethod
    def of(cls, redemption: Redemption) -> ConnectRedemption:
        voucher = redemption.voucher
        return cls(
            id=redemption.id,
            employee_id=redemption.employee_id,
            reward_id=redemption.reward_id,
            points_spent=redemption.points_spent,
            point_entry_id=redemption.point_entry_id,
            voucher=None
            if voucher is None
            else ConnectVoucher(
                id=voucher.id,
                code=voucher.code,
                value=ConnectMoney(**voucher.value.to_json()),
                expires_at=voucher.expires_at,
                created_at=voucher.created_at,
            ),
            created_at=redemption.created_at,
        )


class ConnectBalance(BaseModel):
    employee_id: str = Field(description="The user")
    balance: int = Field(description="Points available now (never negative)")


class ConnectPointSource(BaseModel):
    type: str = Field(description="What caused the entry, e.g. recognition, redemption")
    id: str = Field(description="Its id")


class ConnectPointEntry(BaseModel):
    id: str = Field(description=f"{_ID} (`pts_...`)")
    kind: Literal["earn", "spend", "adjust", "expire"] = Field(description="Entry kind")
    amount: int = Field(description="Signed: credits > 0, debits < 0")
    balance_after: int = Field(description="The balance once this entry applied")
    reason: str = Field(description="recognition, redemption, adjustment, expiry, ...")
    source: ConnectPointSource | None = Field(description="What caused it, if recorded")
    note: str | None = Field(description="Free text from whoever posted it")
    created_at: datetime = Field(description="RFC 3339, UTC")

    @classmethod
    def of(cls, entry: PointEntry) -> ConnectPointEntry:
        body = entry.to_json()
        body.pop("employee_id")
        return cls(**body)


class ConnectEvent(BaseModel):
    id: str = Field(description=f"{_ID} (`evt_...`); the `webhook-id` of its deliveries")
    type: str = Field(description="Catalog type, e.g. recognition.awarded")
    schema_version: int = Field(description="Version of the type's JSON Schema `data` follows")
    timestamp: datetime = Field(description="When it happened, RFC 3339, UTC")
    data: dict[str, Any] = Field(description="The payload, as a webhook would carry it")

    @classmethod
    def of(cls, event: StoredEvent) -> ConnectEvent:
        return cls(
            id=event.id,
            type=event.type,
            schema_version=event.schema_version,
            timestamp=event.created_at,
            data=dict(event.data),
        )


class ConnectEventFeed(BaseModel):
    data: list[ConnectEvent] = Field(description="Events in commit order, oldest first")
    next_cursor: str = Field(
        description="Pass as `after` on the next poll (always present, also on an empty page)"
    )
    has_more: bool = Field(description="More events are ready now: poll again at once")
