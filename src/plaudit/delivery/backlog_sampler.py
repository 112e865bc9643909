"""Keeps the backlog gauges current (queried here, so /metrics stays cheap)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from plaudit.delivery.queries import DeliveryQueries
from plaudit.observability.metrics import Metrics

log = logging.getLogger("plaudit.delivery")


class BacklogSampler:
    name = "backlog-sampler"

    def __init__(self, queries: DeliveryQueries, metrics: Metrics, interval_s: float = 5.0) -> None:
        self._queries = queries
        self._metrics = metrics
        self._interval_s = interval_s

    async def sample(self) -> None:
        pending, oldest_age = await self._queries.backlog()
        self._metrics.retry_backlog.set(pending)
        self._metrics.oldest_pending_age.set(oldest_age or 0.0)

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.sample()
            except Exception as exc:  # the database may be away; the next sample will tell
                log.warning("backlog sample failed", extra={"error": repr(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval_s)
