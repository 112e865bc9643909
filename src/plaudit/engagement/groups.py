"""Groups as audiences: resolving group ids to their active members."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from plaudit.domain.errors import ValidationFailed
from plaudit.engagement.directory import ACTIVE
from plaudit.store.engagement_tables import employees, group_members, groups


def group_member_ids(conn: Connection, environment_id: str, group_ids: Iterable[str]) -> set[str]:
    """Ids of the active employees in any of the groups; unknown group ids are a 422."""
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        return set()
    known = set(
        conn.execute(
            select(groups.c.id).where(
                groups.c.environment_id == environment_id, groups.c.id.in_(wanted)
            )
        ).scalars()
    )
    unknown = [group_id for group_id in wanted if group_id not in known]
    if unknown:
        raise ValidationFailed(
            f"group_ids: no group {', '.join(unknown)} in this environment",
            code="unknown_group",
            details={"field": "group_ids", "group_ids": unknown},
        )
    members = conn.execute(
        select(group_members.c.employee_id)
        .join(employees, employees.c.id == group_members.c.employee_id)
        .where(
            group_members.c.group_id.in_(wanted),
            employees.c.environment_id == environment_id,
            employees.c.status == ACTIVE,
        )
    ).scalars()
    return set(members)
