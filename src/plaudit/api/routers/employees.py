"""Employees of the caller's environment: CRUD, activation, filtered lists and bulk import."""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.employee_filters import EmployeeFilterQuery
from plaudit.api.employee_schemas import (
    EmployeeIn,
    EmployeeOut,
    EmployeePatch,
    ImportIn,
    ImportReportOut,
    StatusChangeIn,
)
from plaudit.api.errors import error_responses
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.domain.errors import UnsupportedMediaType
from plaudit.engagement.employee_import_rows import MAX_ROWS, rows_from_csv, rows_from_json
from plaudit.engagement.employee_views import Employee
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(
    prefix="/api/v1/employees", tags=["employees"], responses=error_responses(401, 403)
)
_WRITE_ERRORS = error_responses(400, 404, 409, 413, 415, 422)
_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ImportIn.model_json_schema()},
            "text/csv": {
                "schema": {"type": "string"},
                "example": "external_id,email,name,manager\nE-1,ada@example.com,Ada,\n"
                "E-2,bob@example.com,Bob,E-1\n",
            },
        },
    }
}


def _out(employee: Employee) -> EmployeeOut:
    return EmployeeOut(**employee.to_json())


@router.post("", status_code=201, summary="Create an employee", responses=_WRITE_ERRORS)
async def create_employee(
    body: EmployeeIn, principal: AdminPrincipal, container: AppContainer
) -> EmployeeOut:
    return _out(await container.employees.create(principal.environment_id, body.given()))


@router.get("", summary="List employees", responses=error_responses(400, 422))
async def list_employees(
    principal: AdminPrincipal,
    container: AppContainer,
    where: EmployeeFilterQuery,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[EmployeeOut]:
    page = await container.employees.list(
        principal.environment_id, where, limit=limit, cursor=cursor
    )
    return ListResponse[EmployeeOut].of(page, _out)


@router.post(
    "/import",
    summary=f"Create or update up to {MAX_ROWS} employees from CSV or JSON, with a per-row report",
    description="Rows matching an existing employee (on `match_on`) update it; the others "
    "create one. Valid rows are applied and rejected ones reported; `dry_run=true` writes "
    "nothing. For CSV, give `match_on` as a query parameter; an empty cell is null.",
    responses=_WRITE_ERRORS,
    openapi_extra=_IMPORT_BODY,
)
async def import_employees(
    request: Request,
    principal: AdminPrincipal,
    container: AppContainer,
    dry_run: bool = False,
    match_on: Literal["external_id", "email"] | None = None,
) -> ImportReportOut:
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "text/csv":
        rows = rows_from_csv(body)
    elif content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    ):
        try:
            parsed = ImportIn.model_validate_json(body)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            ) from exc
        rows = rows_from_json(parsed.employees)
        match_on = parsed.match_on or match_on
    else:
        raise UnsupportedMediaType("send the import as text/csv or application/json")
    report = await container.employee_import.run(
        principal.environment_id, rows, match_on=match_on or "external_id", dry_run=dry_run
    )
    return ImportReportOut.model_validate(report.to_json())


@router.get("/{employee_id}", summary="One employee", responses=error_responses(404))
async def get_employee(
    employee_id: str, principal: AdminPrincipal, container: AppContainer
) -> EmployeeOut:
    return _out(await container.employees.get(principal.environment_id, employee_id))


@router.patch(
    "/{employee_id}",
    summary="Update an employee (send only what changes; null clears a field)",
    responses=_WRITE_ERRORS,
)
async def update_employee(
    employee_id: str, body: EmployeePatch, principal: AdminPrincipal, container: AppContainer
) -> EmployeeOut:
    updated = await container.employees.update(principal.environment_id, employee_id, body.given())
    return _out(updated)


@router.post(
    "/{employee_id}/activate",
    summary="Activate an employee (raises employee.activated; a no-op if already active)",
    responses=_WRITE_ERRORS,
)
async def activate_employee(
    employee_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    body: StatusChangeIn | None = None,
) -> EmployeeOut:
    reason = body.reason if body else None
    return _out(await container.employees.activate(principal.environment_id, employee_id, reason))


@router.post(
    "/{employee_id}/deactivate",
    summary="Deactivate an employee (raises employee.deactivated; a no-op if already inactive)",
    description="A deactivated employee can neither give nor receive anything.",
    responses=_WRITE_ERRORS,
)
async def deactivate_employee(
    employee_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    body: StatusChangeIn | None = None,
) -> EmployeeOut:
    reason = body.reason if body else None
    return _out(await container.employees.deactivate(principal.environment_id, employee_id, reason))
