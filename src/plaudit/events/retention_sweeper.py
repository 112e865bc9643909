"""The workers' periodic retention run (a background service); see plaudit.events.retention."""

from __future__ import annotations

import asyncio
import logging

from plaudit.events.retention import Retention
from plaudit.observability.metrics import Metrics
from plaudit.runtime.background import every

log = logging.getLogger("plaudit.retention")


class RetentionSweeper:
    name = "retention"

    def __init__(self, retention: Retention, metrics: Metrics, interval_s: float) -> None:
        self._retention = retention
        self._metrics = metrics
        self._interval_s = interval_s

    async def run(self, stopping: asyncio.Event) -> None:
        if not self._retention.enabled:
            return

        async def prune() -> None:
            counts = (await self._retention.prune(stopping)).counts()
            for kind, count in counts.items():
                self._metrics.retention_deleted.labels(kind).inc(count)
            if any(counts.values()):
                log.info("aged-out rows deleted", extra=counts)

        await every(
            self._interval_s, stopping, prune, logger=log, failure="retention run failed; retrying"
        )
