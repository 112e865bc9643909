"""Prefixed, time-sortable, opaque identifiers (`evt_01JEX...`).

The part after the prefix is a ULID: 48 bits of milliseconds then 80 random bits,
in Crockford base32, so ids sort by creation time as plain strings. Within one
process ids are strictly increasing even inside the same millisecond, which keeps
cursor pagination stable.
"""

from __future__ import annotations

import base64
import os
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
    }
)  # fmt: skip


_FROM_RFC4648: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET)


def _encode(value: int, length: int) -> str:
    """`value` as `length` Crockford base32 digits, most significant first.

    Done by the C base32 codec on a 160-bit big-endian buffer (32 digits, of which the last
    `length` are ours): ids are made per message on the delivery hot path.
    """
    return base64.b32encode(value.to_bytes(20, "big")).decode()[-length:].translate(_FROM_RFC4648)


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
                    random_part = int.from_bytes(os.urandom(10), "big") >> 1
            else:
                # Top bit cleared leaves room to increment within the millisecond.
                random_part = int.from_bytes(os.urandom(10), "big") >> 1
            self._last_ms, self._last_random = now_ms, random_part
            return now_ms, random_part


_state = _Monotonic()


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    ms, random_part = _state.next(ms)
    return f"{prefix}_{_encode(ms, 10)}{_encode(random_part, 16)}"


def has_prefix(value: str, prefix: str) -> bool:
    head, sep, body = value.partition("_")
    return sep == "_" and head == prefix and len(body) == 26 and set(body) <= set(_ALPHABET)
