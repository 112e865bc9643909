"""Queries recognitions and shoutouts share: both are posts by one employee naming others.

A post table has `environment_id`, `id` and `created_at`; a link table lists the employees
each post names (receivers, mentions).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Select, Table, select

from plaudit.engagement.recognition_rules import check_window


def posts_query(
    table: Table,
    environment_id: str,
    *,
    author: tuple[Column[str], str | None],
    naming: tuple[Column[str], Column[str], str | None],
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    """An environment's posts, filtered by author, by one named employee (`naming`: the
    link table's post and employee columns, and the employee id) and by creation time."""
    check_window(since, until)
    query = select(table).where(table.c.environment_id == environment_id)
    author_column, author_id = author
    if author_id is not None:
        query = query.where(author_column == author_id)
    post_column, employee_column, employee_id = naming
    if employee_id is not None:
        query = query.where(
            table.c.id.in_(select(post_column).where(employee_column == employee_id))
        )
    if since is not None:
        query = query.where(table.c.created_at >= since)
    if until is not None:
        query = query.where(table.c.created_at < until)
    return query


def named_by_post(
    conn: Connection,
    post_column: Column[str],
    employee_column: Column[str],
    post_ids: Sequence[str],
) -> defaultdict[str, list[str]]:
    """The employees each post names, sorted by id (the store keeps no request order)."""
    named: defaultdict[str, list[str]] = defaultdict(list)
    if post_ids:
        for post_id, employee_id in conn.execute(
            select(post_column, employee_column)
            .where(post_column.in_(post_ids))
            .order_by(employee_column)
        ):
            named[post_id].append(employee_id)
    return named
