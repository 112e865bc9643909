"""Counted distinct values: per COUNT DISTINCT aggregate, how many active transactions carry
each value (`campaign_distinct_values`), so the distinct count moves by delta.

A batch moves every touched value's count in one upsert that adds its net change and
returns the new count: the count before is the new one less the change, so no read comes
first. A value whose count falls to 0 is deleted (it no longer counts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date

import orjson
from sqlalchemy import Connection, bindparam

from plaudit.store.bulk import bulk_insert
from plaudit.store.incentive_tables import campaign_distinct_values

ProgressKey = tuple[str, date, str, str]  # campaign, period start, employee, metric key
DistinctKey = tuple[str, date, str, str, str]  # a progress key and a value key

_NAMES = "campaign_id, period_start, employee_id, metric_key, value_key"
_SQLITE_MOVE = (
    f"INSERT INTO campaign_distinct_values ({_NAMES}, count) "  # noqa: S608
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'), "
    "json_extract(value, '$[5]') FROM json_each(?) WHERE true "
    f"ON CONFLICT ({_NAMES}) DO UPDATE SET count = count + excluded.count "
    f"RETURNING {_NAMES}, count"
)
_POSTGRES_MOVE = (
    f"INSERT INTO campaign_distinct_values AS t ({_NAMES}, count) "  # noqa: S608
    "SELECT * FROM unnest($1::varchar[], $2::date[], $3::varchar[], $4::varchar[], "
    f"$5::varchar[], $6::int[]) ON CONFLICT ({_NAMES}) DO UPDATE SET count = t.count + "
    "excluded.count RETURNING t.campaign_id, t.period_start::text, t.employee_id, "
    "t.metric_key, t.value_key, t.count"
)


def move(conn: Connection, net: Mapping[DistinctKey, int]) -> dict[ProgressKey, int]:
    """Add each value's net change (non-zero) to its count; returns how much each touched
    aggregate's distinct count moved (values appearing minus values vanishing)."""
    if not net:
        return {}
    by_text = {(c, p.isoformat(), e, m, v): n for (c, p, e, m, v), n in net.items()}
    if conn.dialect.name == "sqlite":
        listed = orjson.dumps([[*key, n] for key, n in by_text.items()]).decode()
        rows = conn.exec_driver_sql(_SQLITE_MOVE, (listed,)).all()
    else:
        columns = tuple([key[i] for key in net] for i in range(5))
        rows = conn.exec_driver_sql(_POSTGRES_MOVE, (*columns, list(net.values()))).all()
    periods = {p.isoformat(): p for _, p, _, _, _ in net}
    steps: dict[ProgressKey, int] = defaultdict(int)
    gone = []
    for c, p, e, m, v, count in rows:
        before = count - by_text[(c, p, e, m, v)]
        steps[(c, periods[p], e, m)] += (count > 0) - (before > 0)
        if count == 0:
            gone.append({"k_c": c, "k_p": periods[p], "k_e": e, "k_m": m, "k_v": v})
    if gone:
        t = campaign_distinct_values.c
        conn.execute(
            campaign_distinct_values.delete().where(
                t.campaign_id == bindparam("k_c"),
                t.period_start == bindparam("k_p"),
                t.employee_id == bindparam("k_e"),
                t.metric_key == bindparam("k_m"),
                t.value_key == bindparam("k_v"),
            ),
            gone,
        )
    return dict(steps)


def insert(conn: Connection, counts: Mapping[DistinctKey, int]) -> None:
    """Write recounted values where the aggregates' rows were just deleted."""
    bulk_insert(
        conn,
        campaign_distinct_values,
        [
            {
                "campaign_id": c,
                "period_start": p,
                "employee_id": e,
                "metric_key": m,
                "value_key": v,
                "count": n,
            }
            for (c, p, e, m, v), n in counts.items()
            if n
        ],
    )
