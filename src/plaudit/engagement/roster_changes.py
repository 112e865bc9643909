"""Telling other parts, inside the write transaction, whose groups or status changed.

Group members added or removed, a group deleted, an employee activated or deactivated (by
the API or an import): the services call `notify` with the employees concerned, and every
subscriber runs in the same transaction (a subscriber that raises rolls the change back).
Incentive campaigns subscribe to follow group membership; the engagement side knows
nothing of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection

RosterHook = Callable[[Connection, str, Sequence[str], datetime], None]


class RosterChanges:
    def __init__(self) -> None:
        self._hooks: list[RosterHook] = []

    def subscribe(self, hook: RosterHook) -> None:
        self._hooks.append(hook)

    def notify(
        self, conn: Connection, environment_id: str, employee_ids: Sequence[str], now: datetime
    ) -> None:
        if employee_ids:
            for hook in self._hooks:
                hook(conn, environment_id, employee_ids, now)
