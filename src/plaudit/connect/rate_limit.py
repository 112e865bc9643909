"""Per-key token buckets for the Connect API.

Each API key has a bucket of `burst` tokens refilled at `rate_per_s`; a request takes one
or is refused with how long until the next token. The buckets live in this process: with
several PostgreSQL-backed processes behind a load balancer each enforces the limit on its
own (README: Connect API). Idle buckets are full again after `burst / rate_per_s` seconds,
so they are forgotten then, which keeps memory bounded by the keys seen recently.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Look for idle buckets to forget once this many are held.
_SWEEP_AT = 10_000


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int  # whole tokens left after this request
    retry_after_s: int  # seconds until a token is back (0 when allowed)


class TokenBuckets:
    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> Decision:
        now = self._monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate_per_s)
            if tokens >= 1.0:
                tokens -= 1.0
                self._buckets[key] = (tokens, now)
                if len(self._buckets) > _SWEEP_AT:
                    self._forget_idle(now)
                return Decision(True, self.burst, math.floor(tokens), 0)
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate_per_s
            return Decision(False, self.burst, 0, max(1, math.ceil(wait)))

    def _forget_idle(self, now: float) -> None:
        full_after = self.burst / self.rate_per_s
        self._buckets = {
            key: state for key, state in self._buckets.items() if now - state[1] < full_after
        }
