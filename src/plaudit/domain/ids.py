"""Prefixed, time-sortable, opaque identifiers (`evt_01JEX...`).

The part after the prefix is a ULID: 48 bits of milliseconds then 80 random bits,
in Crockford base32, so ids sort by creation time as plain strings. Within one
process ids are strictly increasing even inside the same millisecond, which keeps
cursor pagination stable.
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Final

_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS: Final = 80
_RANDOM_MAX: Final = (1 << _RANDOM_BITS) - 1

PREFIXES: Final = frozenset(
    {
        "org", "env", "key", "evt", "msg", "ep", "atm", "src", "usr", "grp", "rec", "bdg",
        "sht", "pts", "rwd", "rdm", "vch", "srv", "rsp", "q", "cmp", "pay", "lb", "job", "rcp",
        "txn", "inr",
    }
)  # fmt: skip


# Every 10-bit value as two Crockford digits: an id's 130 bits are 13 table lookups.
# (The standard library's base32 codec is written in Python and several times slower;
# ids are made per message on the delivery hot path.)
_PAIRS: Final = tuple(_ALPHABET[i >> 5] + _ALPHABET[i & 31] for i in range(1024))
_PAIR_SHIFTS: Final = tuple(range(120, -1, -10))


def _encode_ulid(ms: int, random_part: int) -> str:
    """48 bits of milliseconds and 80 random bits as 26 Crockford base32 digits."""
    value = (ms << _RANDOM_BITS) | random_part
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])


# Ids are opaque, not secrets (keys, signing secrets and voucher codes come from `secrets`):
# a PRNG seeded from the OS is enough, and unlike os.urandom it never releases the GIL, a
# release that can cost the event loop a thread switch interval (5 ms) on a busy process.
_random = random.Random(os.urandom(32))
# A forked process must not repeat its parent's sequence (the standard library reseeds its
# own global generator the same way).
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))


class _Monotonic:
    """Remembers the last (ms, random) pair so ids never go backwards in-process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def next(self, now_ms: int) -> tuple[int, int]:
        with self._lock:
            if now_ms <= self._last_ms:
                now_ms = self._last_ms
                random_part = self._last_random + 1
                if random_part > _RANDOM_MAX:  # 2^80 ids in one ms: move to the next ms
                    now_ms += 1
                    random_part = _random.getrandbits(_RANDOM_BITS - 1)
            else:
                # Top bit cleared leaves room to increment within the millisecond.
                random_part = _random.getrandbits(_RANDOM_BITS - 1)
            self._last_ms, self._last_random = now_ms, random_part
            return now_ms, random_part


_state = _Monotonic()


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    ms, random_part = _state.next(ms)
    return f"{prefix}_{_encode_ulid(ms, random_part)}"


def has_prefix(value: str, prefix: str) -> bool:
    head, sep, body = value.partition("_")
    return sep == "_" and head == prefix and len(body) == 26 and set(body) <= set(_ALPHABET)
