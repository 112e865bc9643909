"""Resolving groups to their members, for other parts (survey audiences, for one).

Callers pass the connection of their own transaction, so the audience they see is the one
they commit with.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from plaudit.domain.errors import ValidationFailed
from plaudit.domain.text_rules import text_problem
from plaudit.engagement.directory import ACTIVE
from plaudit.store.engagement_tables import employees, group_members, groups


def require_groups(
    conn: Connection, environment_id: str, group_ids: Iterable[str], *, field: str = "group_ids"
) -> list[str]:
    """The distinct ids, in order; 422 `unknown_group` naming every id not in this environment."""
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        return wanted
    askable = [group_id for group_id in wanted if text_problem(group_id) is None]
    found = set(
        conn.execute(
            select(groups.c.id).where(
                groups.c.environment_id == environment_id, groups.c.id.in_(askable)
            )
        ).scalars()
    )
    unknown = [group_id for group_id in wanted if group_id not in found]
    if unknown:
        raise ValidationFailed(
            f"{field}: no group {', '.join(unknown)} in this environment",
            code="unknown_group",
            details={"field": field, "group_ids": unknown},
        )
    return wanted


def group_member_ids(conn: Connection, environment_id: str, group_ids: Iterable[str]) -> set[str]:
    """Ids of the active employees in any of the groups (a union).

    Deactivated members stay in their groups (they come back with them when reactivated)
    but are left out here: they can neither give nor receive anything. Raises
    ValidationFailed `unknown_group` naming every group id not in this environment.
    """
    wanted = require_groups(conn, environment_id, group_ids)
    if not wanted:
        return set()
    rows = conn.execute(
        select(group_members.c.employee_id)
        .join(employees, employees.c.id == group_members.c.employee_id)
        .where(
            group_members.c.group_id.in_(wanted),
            employees.c.environment_id == environment_id,
            employees.c.status == ACTIVE,
        )
    ).scalars()
    return set(rows)
