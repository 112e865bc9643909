"""The workers' periodic retention run (a background service); see plaudit.events.retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from plaudit.events.retention import Retention
from plaudit.observability.metrics import Metrics

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
        while not stopping.is_set():
            try:
                pruned = await self._retention.prune(stopping)
                counts = pruned.counts()
                for kind, count in counts.items():
                    self._metrics.retention_deleted.labels(kind).inc(count)
                if any(counts.values()):
                    log.info("aged-out rows deleted", extra=counts)
            except Exception as exc:  # the database may be away; the next run picks up
                log.warning("retention run failed; retrying later", extra={"error": repr(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval_s)
