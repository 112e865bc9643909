"""Handing fresh messages straight to this process's dispatcher.

When an event is published in a process whose dispatcher has room, the fan-out writes
the new messages already leased to that dispatcher and, once the transaction commits,
gives them to it in memory. The first attempt then needs no claim query and no wake-up
round trip. Nothing is lost if the process dies: the lease expires and any worker claims
the messages as usual. FIFO, rate-limited, paused and disabled endpoints never take
this path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from plaudit.delivery.models import ClaimedMessage


class Receiver(Protocol):
    worker: str

    def accepting(self, endpoint_id: str) -> bool: ...

    def offer(self, messages: Sequence[ClaimedMessage]) -> None: ...


class Handoff:
    def __init__(self, lease: timedelta) -> None:
        self.lease = lease
        self._receiver: Receiver | None = None

    def attach(self, receiver: Receiver | None) -> None:
        self._receiver = receiver

    @property
    def receiver(self) -> Receiver | None:
        return self._receiver

    def taker(self, endpoint_id: str) -> Receiver | None:
        receiver = self._receiver
        if receiver is not None and receiver.accepting(endpoint_id):
            return receiver
        return None

    def lease_until(self, now: datetime) -> datetime:
        return now + self.lease
