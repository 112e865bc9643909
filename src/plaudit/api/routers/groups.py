"""Groups of employees (teams, departments, locations, custom) and their members."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.employee_schemas import (
    EmployeeOut,
    GroupIn,
    GroupKind,
    GroupOut,
    GroupPatch,
    MembersAddedOut,
    MembersIn,
)
from plaudit.api.errors import error_responses
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.domain.errors import ValidationFailed
from plaudit.domain.text_rules import text_problem
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(prefix="/api/v1/groups", tags=["groups"], responses=error_responses(401, 403))
_WRITE_ERRORS = error_responses(400, 404, 409, 413, 415, 422)


@router.post("", status_code=201, summary="Create a group", responses=_WRITE_ERRORS)
async def create_group(
    body: GroupIn, principal: AdminPrincipal, container: AppContainer
) -> GroupOut:
    group = await container.groups.create(
        principal.environment_id,
        _name(body.name),
        body.kind,
        _storable("description", body.description),
    )
    return GroupOut(**group.to_json())


@router.get("", summary="List groups", responses=error_responses(400, 422))
async def list_groups(
    principal: AdminPrincipal,
    container: AppContainer,
    kind: GroupKind | None = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[GroupOut]:
    page = await container.groups.list(
        principal.environment_id, kind=kind, limit=limit, cursor=cursor
    )
    return ListResponse[GroupOut].of(page, lambda g: GroupOut(**g.to_json()))


@router.get("/{group_id}", summary="One group", responses=error_responses(404))
async def get_group(group_id: str, principal: AdminPrincipal, container: AppContainer) -> GroupOut:
    return GroupOut(**(await container.groups.get(principal.environment_id, group_id)).to_json())


@router.patch("/{group_id}", summary="Rename or describe a group", responses=_WRITE_ERRORS)
async def update_group(
    group_id: str, body: GroupPatch, principal: AdminPrincipal, container: AppContainer
) -> GroupOut:
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None:
            raise ValidationFailed(f"{name} cannot be null", details={"field": name})
        changes[name] = _name(value) if name == "name" else _storable(name, value)
    group = await container.groups.update(principal.environment_id, group_id, changes)
    return GroupOut(**group.to_json())


@router.delete(
    "/{group_id}",
    status_code=204,
    summary="Delete a group (its employees stay)",
    responses=error_responses(404),
)
async def delete_group(
    group_id: str, principal: AdminPrincipal, container: AppContainer
) -> Response:
    await container.groups.delete(principal.environment_id, group_id)
    return Response(status_code=204)


@router.put(
    "/{group_id}/members",
    summary="Add employees to a group (those already in it stay; all or nothing)",
    responses=_WRITE_ERRORS,
)
async def add_members(
    group_id: str, body: MembersIn, principal: AdminPrincipal, container: AppContainer
) -> MembersAddedOut:
    added = await container.groups.add_members(
        principal.environment_id, group_id, body.employee_ids
    )
    return MembersAddedOut(
        added=added.added, already_members=added.already_members, member_count=added.member_count
    )


@router.get(
    "/{group_id}/members",
    summary="Members of a group (deactivated ones included, with their status)",
    responses=error_responses(400, 404, 422),
)
async def list_members(
    group_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[EmployeeOut]:
    page = await container.groups.members(
        principal.environment_id, group_id, limit=limit, cursor=cursor
    )
    return ListResponse[EmployeeOut].of(page, lambda e: EmployeeOut(**e.to_json()))


@router.delete(
    "/{group_id}/members/{employee_id}",
    status_code=204,
    summary="Remove an employee from a group",
    responses=error_responses(404),
)
async def remove_member(
    group_id: str, employee_id: str, principal: AdminPrincipal, container: AppContainer
) -> Response:
    await container.groups.remove_member(principal.environment_id, group_id, employee_id)
    return Response(status_code=204)


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise ValidationFailed("name cannot be blank", code="required", details={"field": "name"})
    _storable("name", name)
    return name


def _storable(field: str, value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValidationFailed(
            f"{field} {problem}", code="invalid_characters", details={"field": field}
        )
    return value
