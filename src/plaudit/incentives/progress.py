"""Live progress: per (campaign, period, participant, metric) running aggregates.

Two ways to the same numbers, and a test holds them equal:

* `apply_batch` (live): each `TransactionChange` takes its `before` out and puts its
  `after` in, inside the loading transaction. SUM, COUNT and AVG move by the delta; MAX
  rises with what is added, and is re-read from `transactions` only when a value at the
  current maximum is taken away; COUNT DISTINCT moves by the values whose count in
  `campaign_distinct_values` goes from 0 or to 0. Per batch: one read of the touched
  progress, one of the touched distinct values, and executemany writes.
* `recompute` (from scratch): folds every active transaction of the campaign's participants.

Both go through `MetricDefinition.takes` and `incentive_rules.fold`, and a transaction
belongs to the period holding its `occurred_at` in the campaign's time zone, so a late
correction in an earlier period updates that period. Only `active` campaigns move live;
activating a campaign, or adding participants to an active one, rebuilds it; participants
leaving or following their groups and status have theirs recomputed (`rebuild_participants`).

On PostgreSQL a transaction-scoped advisory lock per participant, taken in sorted order in
one statement, serializes concurrent loads touching the same participant, so
read-modify-write of a progress row never loses an update.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, bindparam, delete, select, text

from plaudit.domain.incentive_periods import Schedule
from plaudit.domain.incentive_rules import Aggregate, MetricDefinition, distinct_key, fold
from plaudit.incentives.definition import CampaignDefinition, definition_from_row
from plaudit.ingest.transactions import TransactionChange, TransactionState, decimal_text
from plaudit.store.bulk import bulk_upsert
from plaudit.store.incentive_tables import (
    campaign_distinct_values,
    campaign_participants,
    campaign_progress,
    campaigns,
)
from plaudit.store.ingest_tables import transactions
from plaudit.store.membership import one_of
from plaudit.store.probe import rows_by_keys

ProgressKey = tuple[str, date, str, str]  # campaign, period start, employee, metric key
Touched = tuple[str, date, str]  # campaign, period start, employee
DistinctKey = tuple[str, date, str, str, str]  # a progress key and a value key
ZERO = Decimal(0)
EMPTY = Aggregate()
_LONG_VALUE = 100  # value keys longer than this (or looking like a digest) are digested


@dataclass(frozen=True, slots=True)
class LiveCampaign:
    id: str
    environment_id: str
    definition: CampaignDefinition
    participants: Mapping[str, Mapping[str, Decimal]]  # employee -> metric key -> target

    def target(self, employee_id: str, metric: MetricDefinition) -> Decimal:
        return self.participants.get(employee_id, {}).get(metric.key, metric.target)


@dataclass(frozen=True, slots=True)
class Moved:
    """What a batch did: every metric's value before and after it, per touched
    (campaign, period start, participant)."""

    before: Mapping[Touched, Mapping[str, Decimal]]
    after: Mapping[Touched, Mapping[str, Decimal]]


def load_campaign(conn: Connection, row: object) -> LiveCampaign:
    rows = conn.execute(
        select(campaign_participants.c.employee_id, campaign_participants.c.targets).where(
            campaign_participants.c.campaign_id == row.id  # type: ignore[attr-defined]
        )
    )
    return LiveCampaign(
        id=row.id,  # type: ignore[attr-defined]
        environment_id=row.environment_id,  # type: ignore[attr-defined]
        definition=definition_from_row(row),
        participants={r.employee_id: {k: Decimal(v) for k, v in r.targets.items()} for r in rows},
    )


def active_campaigns(conn: Connection, environment_id: str) -> list[LiveCampaign]:
    rows = conn.execute(
        select(campaigns)
        .where(campaigns.c.environment_id == environment_id, campaigns.c.status == "active")
        .order_by(campaigns.c.id)
    ).all()
    return [load_campaign(conn, row) for row in rows]


def apply_changes(
    conn: Connection,
    live: Sequence[LiveCampaign],
    changes: Sequence[TransactionChange],
    now: datetime,
) -> set[Touched]:
    """Move the aggregates; returns the touched (campaign, period start, employee)."""
    return set(apply_batch(conn, live, changes, now).after)


Move = tuple[int, Decimal, str | None]  # sign, value, distinct value key


def apply_batch(
    conn: Connection,
    live: Sequence[LiveCampaign],
    changes: Sequence[TransactionChange],
    now: datetime,
) -> Moved:
    """Move the aggregates of a batch; returns the touched participants' values."""
    moves = _moves(live, changes)
    if not moves:
        return Moved({}, {})
    by_id = {campaign.id: campaign for campaign in live}
    touched = {(k[0], k[1], k[2]) for k in moves}
    _lock(conn, sorted({k[2] for k in moves}))
    current = _read_touched(conn, touched)
    counts = _distinct_counts(conn, moves)
    fresh: dict[ProgressKey, Aggregate] = {}
    scans: set[ProgressKey] = set()
    for key, mine in moves.items():
        metric = by_id[key[0]].definition.metric(key[3])
        before = current.get(key, EMPTY)
        total, count, top, distinct = before.sum, before.count, before.max, before.distinct
        for sign, value, _ in mine:
            if sign > 0:
                total += value
                count += 1
                top = value if top is None or value > top else top
            else:
                total -= value
                count -= 1
                if metric.aggregation == "max" and (top is None or value >= top):
                    scans.add(key)  # the maximum may have gone: re-read it
        if metric.distinct_attribute is not None:
            distinct += counts.moved(key)
        fresh[key] = Aggregate(total, count, top, distinct)
    fresh.update(_rescanned(conn, by_id, scans))
    _store_many(conn, {k: a for k, a in fresh.items() if a != current.get(k)}, now)
    counts.store(conn)
    return _moved(by_id, touched, current, fresh)


def _moves(
    live: Sequence[LiveCampaign], changes: Sequence[TransactionChange]
) -> dict[ProgressKey, list[Move]]:
    out: dict[ProgressKey, list[Move]] = defaultdict(list)
    periods: dict[tuple[Schedule, datetime], date | None] = {}
    for change in changes:
        for sign, state in ((-1, change.before), (1, change.after)):
            if state is None:
                continue
            for campaign in live:
                if state.employee_id not in campaign.participants:
                    continue
                schedule = campaign.definition.schedule
                memo = (schedule, state.occurred_at)
                if memo not in periods:
                    found = schedule.period_at(state.occurred_at)
                    periods[memo] = None if found is None else found.start
                start = periods[memo]
                if start is None:
                    continue
                for metric in campaign.definition.metrics:
                    if metric.takes(state.metric, state.attributes):
                        key = (campaign.id, start, state.employee_id, metric.key)
                        out[key].append((sign, state.value, _value_key(metric, state)))
    return out


def _value_key(metric: MetricDefinition, state: TransactionState) -> str | None:
    if metric.distinct_attribute is None:
        return None
    raw = state.attributes.get(metric.distinct_attribute)
    return None if raw is None else value_key(raw)


def value_key(raw: object) -> str:
    """How a distinct value is stored: its text, or a digest of a long one (never equal to
    a short value, since those looking like a digest are digested too)."""
    textual = distinct_key(raw)
    if len(textual) <= _LONG_VALUE and not textual.startswith("sha256:"):
        return textual
    return "sha256:" + hashlib.sha256(textual.encode()).hexdigest()


class _DistinctCounts:
    """The touched distinct values' counts: read once, moved, written once."""

    def __init__(self, stored: dict[DistinctKey, int], net: dict[DistinctKey, int]) -> None:
        self._stored = stored
        self._net = net
        self._by_key: dict[ProgressKey, list[tuple[str, int]]] = defaultdict(list)
        for (c, p, e, m, v), n in net.items():
            self._by_key[(c, p, e, m)].append((v, n))

    def moved(self, key: ProgressKey) -> int:
        """How much the distinct count of `key` moves (values appearing minus vanishing)."""
        step = 0
        for value, net in self._by_key.get(key, ()):
            old = self._stored.get((*key, value), 0)
            step += (old + net > 0) - (old > 0)
        return step

    def store(self, conn: Connection) -> None:
        """Write the moved counts: one upsert, and one delete for values now gone."""
        kept, gone = [], []
        for (c, p, e, m, v), net in self._net.items():
            count = self._stored.get((c, p, e, m, v), 0) + net
            if count:
                kept.append(
                    {
                        "campaign_id": c,
                        "period_start": p,
                        "employee_id": e,
                        "metric_key": m,
                        "value_key": v,
                        "count": count,
                    }
                )
            else:
                gone.append({"k_c": c, "k_p": p, "k_e": e, "k_m": m, "k_v": v})
        bulk_upsert(conn, campaign_distinct_values, kept)
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


def _distinct_counts(
    conn: Connection, moves: Mapping[ProgressKey, Sequence[Move]]
) -> _DistinctCounts:
    net: dict[DistinctKey, int] = defaultdict(int)
    for key, mine in moves.items():
        for sign, _, value in mine:
            if value is not None:
                net[(*key, value)] += sign
    net = {key: n for key, n in net.items() if n}
    stored: dict[DistinctKey, int] = {}
    if net:
        names = ("campaign_id", "period_start", "employee_id", "metric_key", "value_key")
        rows = rows_by_keys(conn, campaign_distinct_values, names, net, (*names, "count"))
        stored = {(c, p, e, m, v): n for c, p, e, m, v, n in rows}
    return _DistinctCounts(stored, net)


def _rescanned(
    conn: Connection, by_id: Mapping[str, LiveCampaign], scans: set[ProgressKey]
) -> dict[ProgressKey, Aggregate]:
    """The aggregates of `scans` read again from the records, one scan per campaign."""
    out: dict[ProgressKey, Aggregate] = {}
    for campaign_id in sorted({k[0] for k in scans}):
        mine = [k for k in scans if k[0] == campaign_id]
        campaign = by_id[campaign_id]
        metrics = [campaign.definition.metric(m) for m in sorted({k[3] for k in mine})]
        found = recompute(conn, campaign, employees=sorted({k[2] for k in mine}), metrics=metrics)
        out.update({k: found.get(k, EMPTY) for k in mine})
    return out


def _moved(
    by_id: Mapping[str, LiveCampaign],
    touched: set[Touched],
    current: Mapping[ProgressKey, Aggregate],
    fresh: Mapping[ProgressKey, Aggregate],
) -> Moved:
    before: dict[Touched, dict[str, Decimal]] = {}
    after: dict[Touched, dict[str, Decimal]] = {}
    for triple in touched:
        was, now = {}, {}
        for metric in by_id[triple[0]].definition.metrics:
            key = (*triple, metric.key)
            old = current.get(key, EMPTY)
            was[metric.key] = old.value(metric.aggregation)
            now[metric.key] = fresh.get(key, old).value(metric.aggregation)
        before[triple], after[triple] = was, now
    return Moved(before, after)


def _read_touched(conn: Connection, touched: set[Touched]) -> dict[ProgressKey, Aggregate]:
    """Every stored aggregate (all metrics) of the touched triples, in one query."""
    rows = rows_by_keys(
        conn,
        campaign_progress,
        ("campaign_id", "period_start", "employee_id"),
        touched,
        (
            "campaign_id",
            "period_start",
            "employee_id",
            "metric_key",
            "sum",
            "count",
            "max",
            "distinct_count",
        ),
    )
    return {
        (c, p, e, m): Aggregate(
            Decimal(total), count, None if top is None else Decimal(top), distinct
        )
        for c, p, e, m, total, count, top, distinct in rows
    }


def _columns(aggregate: Aggregate, now: datetime) -> dict[str, object]:
    return {
        "sum": decimal_text(aggregate.sum),
        "count": aggregate.count,
        "max": None if aggregate.max is None else decimal_text(aggregate.max),
        "distinct_count": aggregate.distinct,
        "updated_at": now,
    }


def _store_many(conn: Connection, fresh: Mapping[ProgressKey, Aggregate], now: datetime) -> None:
    """Write aggregates, new or not, in one upsert."""
    bulk_upsert(
        conn,
        campaign_progress,
        [
            {
                "campaign_id": k[0],
                "period_start": k[1],
                "employee_id": k[2],
                "metric_key": k[3],
                **_columns(agg, now),
            }
            for k, agg in fresh.items()
        ],
    )


def _lock(conn: Connection, employee_ids: Sequence[str]) -> None:
    if conn.dialect.name != "postgresql":
        return  # one writer
    keys = sorted({zlib.crc32(employee_id.encode()) - 2**31 for employee_id in employee_ids})
    conn.execute(
        text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k"),
        {"keys": keys},
    )


def _aggregate(row: object) -> Aggregate:
    return Aggregate(
        sum=Decimal(row.sum),  # type: ignore[attr-defined]
        count=row.count,  # type: ignore[attr-defined]
        max=None if row.max is None else Decimal(row.max),  # type: ignore[attr-defined]
        distinct=row.distinct_count,  # type: ignore[attr-defined]
    )


def recompute(
    conn: Connection,
    campaign: LiveCampaign,
    *,
    employees: Sequence[str] | None = None,
    metrics: Sequence[MetricDefinition] | None = None,
) -> dict[ProgressKey, Aggregate]:
    """The aggregates from scratch (nothing written); only keys with transactions appear."""
    values = _collected(conn, campaign, employees, metrics)
    return {key: fold(pairs) for key, pairs in values.items()}


def recompute_distinct(
    conn: Connection, campaign: LiveCampaign, *, employees: Sequence[str] | None = None
) -> dict[DistinctKey, int]:
    """The distinct values' counts from scratch (what `campaign_distinct_values` must hold)."""
    out: dict[DistinctKey, int] = defaultdict(int)
    for key, pairs in _collected(conn, campaign, employees, None).items():
        for _, raw in pairs:
            if raw is not None:
                out[(*key, value_key(raw))] += 1
    return dict(out)


def _collected(
    conn: Connection,
    campaign: LiveCampaign,
    employees: Sequence[str] | None,
    metrics: Sequence[MetricDefinition] | None,
) -> dict[ProgressKey, list[tuple[Decimal, object]]]:
    """Every active transaction's (value, distinct attribute) per aggregate it counts in."""
    wanted = list(metrics or campaign.definition.metrics)
    who = sorted(employees if employees is not None else campaign.participants)
    start, until = campaign.definition.schedule.span()
    t = transactions.c
    query = select(t.employee_id, t.metric, t.value, t.occurred_at, t.attributes).where(
        t.environment_id == campaign.environment_id,
        t.status == "active",
        one_of(conn, t.metric, sorted({m.source_metric for m in wanted})),
        one_of(conn, t.employee_id, who),
        t.occurred_at >= start,
        t.occurred_at < until,
    )
    values: dict[ProgressKey, list[tuple[Decimal, object]]] = defaultdict(list)
    schedule = campaign.definition.schedule
    for row in conn.execute(query):
        period = schedule.period_at(row.occurred_at)
        if period is None:
            continue
        for metric in wanted:
            if metric.takes(row.metric, row.attributes):
                distinct = (
                    row.attributes.get(metric.distinct_attribute)
                    if metric.distinct_attribute
                    else None
                )
                key = (campaign.id, period.start, row.employee_id, metric.key)
                values[key].append((Decimal(row.value), distinct))
    return values


def stored(conn: Connection, campaign_id: str) -> dict[ProgressKey, Aggregate]:
    """The live aggregates as stored (rows that fold to nothing are left out)."""
    rows = conn.execute(
        select(campaign_progress).where(campaign_progress.c.campaign_id == campaign_id)
    )
    out = {
        (r.campaign_id, r.period_start, r.employee_id, r.metric_key): _aggregate(r) for r in rows
    }
    return {key: agg for key, agg in out.items() if agg.count}


def stored_distinct(conn: Connection, campaign_id: str) -> dict[DistinctKey, int]:
    t = campaign_distinct_values.c
    rows = conn.execute(
        select(
            t.campaign_id, t.period_start, t.employee_id, t.metric_key, t.value_key, t.count
        ).where(t.campaign_id == campaign_id)
    )
    return {(c, p, e, m, v): n for c, p, e, m, v, n in rows}


def rebuild(conn: Connection, campaign: LiveCampaign, now: datetime) -> set[Touched]:
    """Replace the campaign's stored aggregates (and distinct values) with a recompute."""
    conn.execute(delete(campaign_progress).where(campaign_progress.c.campaign_id == campaign.id))
    conn.execute(
        delete(campaign_distinct_values).where(
            campaign_distinct_values.c.campaign_id == campaign.id
        )
    )
    fresh = recompute(conn, campaign)
    _store_many(conn, fresh, now)
    _DistinctCounts({}, recompute_distinct(conn, campaign)).store(conn)
    return {(k[0], k[1], k[2]) for k in fresh}


def rebuild_participants(
    conn: Connection, campaign: LiveCampaign, employee_ids: Sequence[str], now: datetime
) -> set[Touched]:
    """Recompute some employees' aggregates and distinct values: kept for participants,
    dropped for the others (removed ones stop counting). Returns what was touched, before
    and after."""
    who = sorted(set(employee_ids))
    _lock(conn, who)
    t = campaign_progress.c
    mine = (t.campaign_id == campaign.id, t.employee_id.in_(who))
    before = conn.execute(select(t.period_start, t.employee_id).where(*mine).distinct()).all()
    conn.execute(delete(campaign_progress).where(*mine))
    d = campaign_distinct_values.c
    conn.execute(
        delete(campaign_distinct_values).where(d.campaign_id == campaign.id, d.employee_id.in_(who))
    )
    staying = [e for e in who if e in campaign.participants]
    fresh = recompute(conn, campaign, employees=staying) if staying else {}
    _store_many(conn, fresh, now)
    if staying:
        _DistinctCounts({}, recompute_distinct(conn, campaign, employees=staying)).store(conn)
    return {(campaign.id, r.period_start, r.employee_id) for r in before} | {
        (k[0], k[1], k[2]) for k in fresh
    }


def values_for(
    conn: Connection, campaign: LiveCampaign, period_start: date, employee_id: str
) -> dict[str, Decimal]:
    """Each metric's current value for one participant and period (one query)."""
    found = all_values(conn, campaign, period_start, [employee_id])
    return found.get(employee_id, _zeros(campaign))


def all_values(
    conn: Connection,
    campaign: LiveCampaign,
    period_start: date,
    employee_ids: Sequence[str] | None = None,
) -> dict[str, dict[str, Decimal]]:
    """Metric values per participant (all, or those named) with progress in a period."""
    t = campaign_progress.c
    query = select(campaign_progress).where(
        t.campaign_id == campaign.id, t.period_start == period_start
    )
    if employee_ids is not None:
        query = query.where(t.employee_id.in_(list(employee_ids)))
    out: dict[str, dict[str, Decimal]] = {}
    metrics = {m.key: m for m in campaign.definition.metrics}
    for row in conn.execute(query):
        metric = metrics.get(row.metric_key)
        if metric is not None:
            values = out.setdefault(row.employee_id, _zeros(campaign))
            values[metric.key] = _aggregate(row).value(metric.aggregation)
    return out


def _zeros(campaign: LiveCampaign) -> dict[str, Decimal]:
    return {m.key: Decimal(0) for m in campaign.definition.metrics}


def metric_values(
    campaign: LiveCampaign, aggregates: Mapping[ProgressKey, Aggregate]
) -> dict[ProgressKey, Decimal]:
    """What each aggregate means for its metric (the numbers live and recompute must agree on)."""
    return {
        key: aggregate.value(campaign.definition.metric(key[3]).aggregation)
        for key, aggregate in aggregates.items()
    }
