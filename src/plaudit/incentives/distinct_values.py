"""Counted distinct values: a COUNT DISTINCT aggregate's entry counts, per value key, the
active transactions carrying it (the entry's fifth element), so the distinct count moves by
delta: a value counts while its count is above 0 and is dropped at 0.

They live in the progress row a batch reads and writes anyway, so moving them costs no
statement (and no written page) of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from plaudit.incentives.progress_rows import Entry, State

ProgressKey = tuple[str, date, str, str]  # campaign, period start, employee, metric key
DistinctKey = tuple[str, date, str, str, str]  # a progress key and a value key
Counts = dict[str, int]  # value key -> active transactions carrying it


def moved(
    found: Entry | None, moves: Iterable[tuple[int, object, str | None]]
) -> tuple[Counts, int]:
    """An entry's counts with each move's value key (sign, _, key) added or taken away, and
    how many values then count."""
    counts = counted(found) if found is not None else {}
    for sign, _, key in moves:
        if key is None:
            continue
        count = counts.get(key, 0) + sign
        if count:
            counts[key] = count
        else:
            del counts[key]
    return counts, sum(count > 0 for count in counts.values())


def counted(found: Entry) -> Counts:
    """An entry's counted values (none for a metric without a distinct attribute)."""
    return dict(found[4]) if len(found) > 4 else {}


def attach(
    states: Mapping[tuple[str, date, str], State], counts: Mapping[DistinctKey, int]
) -> None:
    """Put recounted values into the entries they belong to (in place)."""
    for (c, p, e, m, v), n in counts.items():
        if n:
            found = states[(c, p, e)][m]
            if len(found) == 4:
                found.append({})
            found[4][v] = n
