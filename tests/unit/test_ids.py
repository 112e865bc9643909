from __future__ import annotations

import itertools
import os
import random
import time

import pytest

from plaudit.domain import ids as ids_module
from plaudit.domain.ids import PREFIXES, has_prefix, new_id

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + CROCKFORD.index(char)
    return value


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def fresh_ms() -> int:
    """A millisecond no id of this process has used yet (ids never go backwards)."""
    return max(now_ms(), ids_module._state._last_ms) + 1


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_every_prefix_gives_prefix_underscore_and_26_crockford_chars(prefix: str) -> None:
    value = new_id(prefix)
    head, sep, body = value.partition("_")
    assert (head, sep) == (prefix, "_")
    assert len(body) == 26
    assert set(body) <= set(CROCKFORD)
    assert has_prefix(value, prefix)


def test_the_first_ten_characters_are_the_milliseconds() -> None:
    ms = fresh_ms()
    value = new_id("evt", now_ms=ms)
    assert decode(value[4:14]) == ms


def test_ids_strictly_increase_within_one_millisecond() -> None:
    ms = fresh_ms()
    ids = [new_id("evt", now_ms=ms) for _ in range(10_000)]
    assert all(a < b for a, b in itertools.pairwise(ids))
    assert len(set(ids)) == 10_000
    assert {value[4:14] for value in ids} == {ids[0][4:14]}  # all in the same millisecond
    assert decode(ids[0][4:14]) == ms
    randoms = [decode(value[14:]) for value in ids]
    assert randoms == list(range(randoms[0], randoms[0] + 10_000))


def test_ids_never_go_backwards_when_the_clock_does() -> None:
    later = new_id("evt", now_ms=fresh_ms())
    earlier_clock = new_id("evt", now_ms=now_ms() - 60_000)
    assert earlier_clock > later
    assert earlier_clock[4:14] == later[4:14]


def test_ids_sort_by_time_across_milliseconds() -> None:
    base = fresh_ms()
    ids = [new_id("msg", now_ms=base + step) for step in range(0, 50, 5)]
    assert ids == sorted(ids)
    assert [decode(value[4:14]) for value in ids] == list(range(base, base + 50, 5))


def test_consecutive_ids_increase_with_the_real_clock() -> None:
    a = new_id("evt")
    b = new_id("evt")
    assert a < b
    assert a.split("_")[1] < b.split("_")[1]


@pytest.mark.parametrize("prefix", ["", "EVT", "event", "xyz", "evt_", "org "])
def test_unknown_prefix_is_a_value_error(prefix: str) -> None:
    with pytest.raises(ValueError, match="unknown id prefix"):
        new_id(prefix)


def test_has_prefix() -> None:
    value = new_id("key")
    assert has_prefix(value, "key")
    assert not has_prefix(value, "evt")
    assert not has_prefix(value, "ke")
    body = value[4:]
    for bad in [
        "key" + body,  # no separator
        f"key_{body[:-1]}",  # 25 characters
        f"key_{body}0",  # 27 characters
        f"key_{body[:-1]}U",  # U is not Crockford base32
        f"key_{body[:-1]}u",  # lower case
        f"key_{body[:-1]}_",
        "",
        "key_",
        f"KEY_{body}",
    ]:
        assert not has_prefix(bad, "key"), bad


@pytest.mark.parametrize(
    ("ms", "random_part", "expected"),
    [
        (0, 0, "0" * 26),
        ((1 << 48) - 1, (1 << 80) - 1, "7" + "Z" * 25),
        # The ULID spec's example timestamp: 1469918176385 ms -> 01ARYZ6S41.
        (1469918176385, 0, "01ARYZ6S41" + "0" * 16),
    ],
)
def test_encoding_matches_crockford_base32(ms: int, random_part: int, expected: str) -> None:
    assert ids_module._encode_ulid(ms, random_part) == expected
    assert decode(expected) == (ms << 80) | random_part


def test_encoding_round_trips_random_values() -> None:
    rng = random.Random(7)
    for _ in range(1000):
        ms, random_part = rng.getrandbits(48), rng.getrandbits(80)
        assert decode(ids_module._encode_ulid(ms, random_part)) == (ms << 80) | random_part


def test_a_forked_process_does_not_repeat_the_parents_random_sequence() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next random draw, then leave at once
        os.close(read)
        os.write(write, str(ids_module._random.getrandbits(79)).encode())
        os._exit(0)
    os.close(write)
    child_draw = int(os.read(read, 100).decode())
    os.close(read)
    os.waitpid(pid, 0)
    # Without a reseed in the child both would draw from the same state: equal.
    assert child_draw != ids_module._random.getrandbits(79)
