"""Canonical record types and their schemas: what a template must produce.

* `transaction`: a sales or KPI fact (see `transactions`), e.g.
  `{"external_id": "D-17", "action": "create", "employee": {"email": "a@x.io"},
  "metric": "revenue", "value": "12000.50", "currency": "EUR",
  "occurred_at": "2026-03-03T12:00:00Z", "attributes": {"stage": "won"}}`
* `employee`: one directory row, the fields of the employee import (`external_id`, `email`,
  `name`, `department`, ..., `manager`), upserted as an HRIS sync.
* `event`: `{"type": "<catalog type>", "data": {...}, "idempotency_key": "..."}`, published
  to the event log (and so to outbound endpoints).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

RecordType = Literal["employee", "transaction", "event"]
RECORD_TYPES: tuple[RecordType, ...] = ("employee", "transaction", "event")


class RecordInvalid(Exception):
    """A mapped record breaks its type's schema; `path` points at the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class EmployeeRef(_Strict):
    id: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    external_id: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _exactly_one(self) -> EmployeeRef:
        if bool(self.id) + bool(self.email) + bool(self.external_id) != 1:
            raise ValueError("name the employee by exactly one of id, email or external_id")
        return self


class TransactionRecord(_Strict):
    external_id: str = Field(min_length=1, max_length=200)
    action: Literal["create", "update", "delete"] = "create"
    employee: EmployeeRef | None = None
    metric: str | None = Field(default=None, min_length=1, max_length=100)
    value: Decimal | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    occurred_at: datetime | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("value", mode="before")
    @classmethod
    def _decimal(cls, value: Any) -> Any:
        if isinstance(value, bool) or (isinstance(value, float) and value != value):
            raise ValueError("value must be a number or a decimal string")
        if isinstance(value, float):
            return Decimal(repr(value))  # 0.1 stays 0.1, not its binary expansion
        if isinstance(value, str):
            try:
                parsed = Decimal(value.strip())
            except InvalidOperation:
                raise ValueError("value must be a number or a decimal string") from None
            if not parsed.is_finite():
                raise ValueError("value must be finite")
            return parsed  # parsed once, not again by the field's own validation
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("occurred_at needs a time zone (e.g. ...Z)")
        return value

    @model_validator(mode="after")
    def _complete(self) -> TransactionRecord:
        if self.action == "delete":
            return self
        if self.value is None or None in (self.employee, self.metric, self.occurred_at):
            missing = [
                name
                for name in ("employee", "metric", "value", "occurred_at")
                if getattr(self, name) is None
            ]
            raise ValueError(f"{self.action} needs {', '.join(missing)}")
        digits = self.value.as_tuple()
        if abs(digits.exponent) > 20 or len(digits.digits) > 38:  # type: ignore[arg-type]
            raise ValueError("value has more than 38 digits")
        return self


class EventRecord(_Strict):
    type: str = Field(min_length=1, max_length=100)
    data: dict[str, Any]
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class EmployeeRow(BaseModel):
    """Employee rows are checked field by field by the employee import itself; here only the
    shape (an object of scalars) is checked."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _scalars(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, dict | list):
                    raise ValueError(f"{name} must be a string, number or null")
        return value


_MODELS: dict[str, type[BaseModel]] = {
    "transaction": TransactionRecord,
    "event": EventRecord,
    "employee": EmployeeRow,
}


def validate_record(record_type: str, output: Any) -> BaseModel:
    """The mapped output as its canonical model, or RecordInvalid naming the first problem."""
    if output is None:
        raise RecordInvalid("$", "the template maps this record to nothing")
    if not isinstance(output, dict):
        raise RecordInvalid("$", f"the template must produce an object, not {_kind(output)}")
    try:
        return _MODELS[record_type].model_validate(output)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        return _raise(path, first["msg"])


def _raise(path: str, message: str) -> BaseModel:
    raise RecordInvalid(path, message.removeprefix("Value error, "))


def _kind(value: Any) -> str:
    return "an array" if isinstance(value, list) else f"a {type(value).__name__}"
