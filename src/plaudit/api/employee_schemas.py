"""Request and response bodies of the employee and group routes.

Employee fields are strings (dates as `YYYY-MM-DD`) checked by the engagement rules, so the
API and bulk import answer the same mistakes the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from plaudit.api.schemas import StrictModel


class _EmployeeFields(StrictModel):
    external_id: str | None = Field(
        default=None, description="The HRIS id; unique per environment", examples=["E-1042"]
    )
    email: str | None = Field(
        default=None, description="Stored lower-cased; unique per environment"
    )
    department: str | None = None
    location: str | None = None
    manager_id: str | None = Field(
        default=None, description="Another employee of this environment; no reporting loops"
    )
    hire_date: str | None = Field(default=None, description="YYYY-MM-DD", examples=["2024-03-01"])
    birth_date: str | None = Field(default=None, description="YYYY-MM-DD, not in the future")

    def given(self) -> dict[str, Any]:
        """Only the fields the client sent (null included: it clears the field)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class EmployeeIn(_EmployeeFields):
    name: str = Field(examples=["Ada Lovelace"])
    time_zone: str = Field(default="UTC", description="IANA name", examples=["Europe/Paris"])
    status: Literal["active", "inactive"] = Field(
        default="active", description="Creating an active employee raises employee.activated"
    )


class EmployeePatch(_EmployeeFields):
    name: str | None = None
    time_zone: str | None = None
    status: Literal["active", "inactive"] | None = Field(
        default=None, description="Same as the activate / deactivate routes (raises the event)"
    )


class StatusChangeIn(StrictModel):
    reason: str | None = Field(
        default=None, max_length=500, description="Carried in the event's `reason`"
    )


class EmployeeOut(BaseModel):
    id: str
    external_id: str | None
    email: str | None
    name: str
    department: str | None
    location: str | None
    manager_id: str | None
    hire_date: str | None
    birth_date: str | None
    time_zone: str
    status: Literal["active", "inactive"]
    created_at: datetime
    updated_at: datetime
    deactivated_at: datetime | None


class ImportIn(StrictModel):
    employees: list[Any] = Field(
        description="Objects with the employee fields; `manager` names the manager by id, "
        "external_id or email (rows of the same import included)"
    )
    match_on: Literal["external_id", "email"] | None = Field(
        default=None,
        description="Key matching rows to existing employees (default external_id; a row "
        "without it is matched on the other key)",
    )


class ImportErrorOut(BaseModel):
    field: str
    message: str
    code: str


class ImportRowOut(BaseModel):
    row: int = Field(description="1-based data row (the CSV header is not counted)")
    status: Literal["created", "updated", "unchanged", "rejected"]
    employee_id: str | None
    changed_fields: list[str]
    errors: list[ImportErrorOut]


class ImportSummaryOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int


class ImportReportOut(BaseModel):
    dry_run: bool
    summary: ImportSummaryOut
    rows: list[ImportRowOut]


GroupKind = Literal["team", "department", "location", "custom"]


class GroupIn(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    kind: GroupKind = "custom"
    description: str = Field(default="", max_length=1000)


class GroupPatch(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: GroupKind | None = None
    description: str | None = Field(default=None, max_length=1000)


class GroupOut(BaseModel):
    id: str
    name: str
    kind: GroupKind
    description: str
    member_count: int
    created_at: datetime
    updated_at: datetime


class MembersIn(StrictModel):
    employee_ids: list[str] = Field(min_length=1, max_length=1000)


class MembersAddedOut(BaseModel):
    added: list[str] = Field(description="Employees who were not members before")
    already_members: list[str]
    member_count: int
