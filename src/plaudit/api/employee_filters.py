"""The employee list filters, as query parameters: shared by the admin and Connect lists."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from plaudit.engagement.employee_views import EmployeeFilter

_Id = Annotated[str | None, Query(min_length=1, max_length=64)]


async def employee_filter(
    status: Literal["active", "inactive"] | None = None,
    department: Annotated[str | None, Query(max_length=200)] = None,
    location: Annotated[str | None, Query(max_length=200)] = None,
    manager_id: _Id = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
    group_id: Annotated[_Id, Query(description="Members of this group")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Substring of the name or email")
    ] = None,
) -> EmployeeFilter:
    return EmployeeFilter(
        status=status,
        department=department,
        location=location,
        manager_id=manager_id,
        email=email,
        external_id=external_id,
        group_id=group_id,
        q=q,
    )


EmployeeFilterQuery = Annotated[EmployeeFilter, Depends(employee_filter)]
