"""Request and response bodies of the points, rewards, redemption and voucher routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from plaudit.api.schemas import StrictModel
from plaudit.domain.errors import ValidationFailed
from plaudit.domain.text_rules import text_problem
from plaudit.engagement.money import Money, parse_money


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# Strict: a float or a numeric string for a count of points is a client bug, not a 5.
StrictCount = Annotated[int, Field(strict=True)]
Text = Annotated[str, AfterValidator(_storable)]


class SourceRef(StrictModel):
    type: str = Field(pattern=r"^[a-z][a-z_]*$", max_length=40, examples=["crm_deal"])
    id: Text = Field(min_length=1, max_length=200)


class PointsIn(StrictModel):
    kind: Literal["earn", "adjust", "expire"] = Field(
        description=(
            "`earn`: credit `points` (>= 1). `adjust`: signed, non-zero correction "
            "(negative debits). `expire`: remove `points` (>= 1, given as a positive count)."
        )
    )
    points: StrictCount
    reason: Text | None = Field(
        default=None,
        description="`earn` only: recognition, payout, adjustment, milestone or other (default)",
    )
    note: Text | None = Field(default=None, max_length=500)
    source: SourceRef | None = Field(
        default=None, description="What caused the entry in your system, e.g. a deal"
    )


class SourceOut(BaseModel):
    type: str
    id: str


class PointEntryOut(BaseModel):
    id: str
    employee_id: str
    kind: str
    amount: int = Field(description="Signed: credits > 0, debits < 0")
    balance_after: int
    reason: str
    source: SourceOut | None
    note: str | None
    created_at: datetime


class BalanceOut(BaseModel):
    employee_id: str
    balance: int
    entries_sum: int | None = Field(
        default=None, description="With `verify=true`: the sum of all entries"
    )
    consistent: bool | None = Field(
        default=None, description="With `verify=true`: whether the balance equals that sum"
    )


class LedgerAuditOut(BaseModel):
    accounts_checked: int
    consistent: bool
    mismatches: list[BalanceOut]


class MoneyIn(StrictModel):
    amount: Text = Field(max_length=64, description="Decimal string, 0 or more", examples=["25.00"])
    currency: Text = Field(max_length=16, description="ISO 4217, upper case", examples=["EUR"])

    def checked(self, field: str = "value") -> Money:
        return parse_money(self.amount, self.currency, field=field)


class MoneyOut(BaseModel):
    amount: str
    currency: str


class RewardIn(StrictModel):
    name: Text = Field(min_length=1, max_length=200, examples=["Bookstore gift card"])
    description: Text = Field(default="", max_length=2000)
    point_cost: StrictCount = Field(ge=1, le=10_000_000)
    value: MoneyIn
    stock: StrictCount | None = Field(default=None, description="null: unlimited")
    voucher_valid_days: StrictCount | None = Field(
        default=None,
        description="Days a voucher stays valid (to the end of the day, UTC); null: never expires",
    )
    active: bool = True


class RewardPatch(StrictModel):
    name: Text | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=2000)
    point_cost: StrictCount | None = Field(default=None, ge=1, le=10_000_000)
    value: MoneyIn | None = None
    stock: StrictCount | None = Field(default=None, description="The new count; null: unlimited")
    add_stock: StrictCount | None = Field(
        default=None, description="Restock: added to what is left, safe during redemptions"
    )
    voucher_valid_days: StrictCount | None = None
    active: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent, for the service; null only where it means something."""
        sent = self.model_fields_set - {"add_stock"}
        refused = sorted(f for f in sent - _NULLABLE if getattr(self, f) is None)
        if refused:
            raise ValidationFailed(
                f"{', '.join(refused)} cannot be null",
                code="null_not_allowed",
                details={"fields": refused},
            )
        changes: dict[str, Any] = {field: getattr(self, field) for field in sent}
        if self.value is not None:
            changes["value"] = self.value.checked()
        return changes


_NULLABLE = frozenset({"stock", "voucher_valid_days"})


class RewardOut(BaseModel):
    id: str
    name: str
    description: str
    point_cost: int
    value: MoneyOut
    stock: int | None
    voucher_valid_days: int | None
    active: bool
    created_at: datetime
    updated_at: datetime


class RedemptionIn(StrictModel):
    employee_id: Text = Field(min_length=1, max_length=40)
    reward_id: Text = Field(min_length=1, max_length=40)


class VoucherOut(BaseModel):
    id: str
    redemption_id: str
    employee_id: str
    code: str = Field(examples=["7KQ2-MX4P-9TZC-A1B3"])
    value: MoneyOut
    expires_at: datetime | None
    created_at: datetime


class RedemptionOut(BaseModel):
    id: str
    employee_id: str
    reward_id: str
    points_spent: int
    point_entry_id: str
    voucher: VoucherOut | None
    idempotency_key: str | None
    created_at: datetime
