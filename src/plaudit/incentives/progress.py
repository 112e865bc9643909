"""Live progress: per (campaign, period, participant, metric) running aggregates.

Two ways to the same numbers, and a test holds them equal:

* `apply_changes` (live): each `TransactionChange` takes its `before` out and puts its
  `after` in, inside the loading transaction. SUM, COUNT and AVG move by the delta; MAX
  rises with what is added, and is re-read from `transactions` only when a value at the
  current maximum is taken away; COUNT DISTINCT cannot be kept from deltas (is the key
  still there?), so the touched (participant, period, metric) is re-read (bounded: one
  participant, one period, one metric).
* `recompute` (from scratch): folds every active transaction of the campaign's participants.

Both go through `MetricDefinition.takes` and `incentive_rules.fold`, and a transaction
belongs to the period holding its `occurred_at` in the campaign's time zone, so a late
correction in an earlier period updates that period. Only `active` campaigns move live;
activating a campaign, or adding participants to an active one, rebuilds it.

On PostgreSQL a transaction-scoped advisory lock per (campaign, participant), taken in
sorted order, serializes concurrent loads touching the same participant, so read-modify-
write of a progress row never loses an update.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, bindparam, delete, select, text

from plaudit.domain.incentive_rules import Aggregate, MetricDefinition, fold
from plaudit.incentives.definition import CampaignDefinition, definition_from_row
from plaudit.ingest.transactions import TransactionChange, TransactionState, decimal_text
from plaudit.store.incentive_tables import campaign_participants, campaign_progress, campaigns
from plaudit.store.ingest_tables import transactions

ProgressKey = tuple[str, date, str, str]  # campaign, period start, employee, metric key


@dataclass(frozen=True, slots=True)
class LiveCampaign:
    id: str
    environment_id: str
    definition: CampaignDefinition
    participants: Mapping[str, Mapping[str, Decimal]]  # employee -> metric key -> target

    def target(self, employee_id: str, metric: MetricDefinition) -> Decimal:
        return self.participants.get(employee_id, {}).get(metric.key, metric.target)


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
) -> set[tuple[str, date, str]]:
    """Move the aggregates; returns the touched (campaign, period start, employee)."""
    deltas: dict[ProgressKey, list[tuple[int, Decimal]]] = defaultdict(list)
    rescans: set[ProgressKey] = set()
    by_id = {campaign.id: campaign for campaign in live}
    for change in changes:
        for sign, state in ((-1, change.before), (1, change.after)):
            if state is None:
                continue
            for campaign, metric, period_start in _matches(live, state):
                key = (campaign.id, period_start, state.employee_id, metric.key)
                if metric.needs_rescan():
                    rescans.add(key)
                else:
                    deltas[key].append((sign, state.value))
    keys = sorted(set(deltas) | rescans)
    _lock(conn, sorted({(k[0], k[2]) for k in keys}))
    current = _read_many(conn, keys)
    # Keys needing a re-read, then one scan per campaign for all of them.
    scans = set(rescans)
    for key in keys:
        metric = by_id[key[0]].definition.metric(key[3])
        if _max_may_drop(metric, current.get(key, Aggregate()), deltas.get(key, [])):
            scans.add(key)
    scanned: dict[ProgressKey, Aggregate] = {}
    for campaign_id in sorted({k[0] for k in scans}):
        mine = [k for k in scans if k[0] == campaign_id]
        campaign = by_id[campaign_id]
        metrics = [campaign.definition.metric(m) for m in sorted({k[3] for k in mine})]
        found = recompute(conn, campaign, employees=sorted({k[2] for k in mine}), metrics=metrics)
        scanned.update({k: found.get(k, Aggregate()) for k in mine})
    fresh: dict[ProgressKey, Aggregate] = {}
    for key in keys:
        if key in scanned:
            fresh[key] = scanned[key]
            continue
        metric = by_id[key[0]].definition.metric(key[3])
        aggregate = current.get(key, Aggregate())
        moves = deltas.get(key, [])
        for sign, value in moves:
            aggregate = aggregate.shifted(value, sign)
        if metric.aggregation == "max":
            aggregate = _raised(aggregate, [v for sign, v in moves if sign > 0])
        fresh[key] = aggregate
    _store_many(conn, fresh, set(current), now)
    return {(k[0], k[1], k[2]) for k in keys}


def _read_many(conn: Connection, keys: Sequence[ProgressKey]) -> dict[ProgressKey, Aggregate]:
    """The stored aggregates of `keys`, one query per campaign."""
    t = campaign_progress.c
    wanted = set(keys)
    out: dict[ProgressKey, Aggregate] = {}
    for campaign_id in sorted({k[0] for k in keys}):
        mine = [k for k in keys if k[0] == campaign_id]
        rows = conn.execute(
            select(campaign_progress).where(
                t.campaign_id == campaign_id,
                t.employee_id.in_(sorted({k[2] for k in mine})),
                t.period_start.in_(sorted({k[1] for k in mine})),
            )
        )
        for row in rows:
            key = (row.campaign_id, row.period_start, row.employee_id, row.metric_key)
            if key in wanted:
                out[key] = _aggregate(row)
    return out


def _columns(aggregate: Aggregate, now: datetime) -> dict[str, object]:
    return {
        "sum": decimal_text(aggregate.sum),
        "count": aggregate.count,
        "max": None if aggregate.max is None else decimal_text(aggregate.max),
        "distinct_count": aggregate.distinct,
        "updated_at": now,
    }


def _store_many(
    conn: Connection,
    fresh: Mapping[ProgressKey, Aggregate],
    existing: set[ProgressKey],
    now: datetime,
) -> None:
    """Write aggregates: one executemany for the updates and one for the inserts."""
    t = campaign_progress.c
    updates = [
        {"k_c": k[0], "k_p": k[1], "k_e": k[2], "k_m": k[3], **_columns(agg, now)}
        for k, agg in fresh.items()
        if k in existing
    ]
    inserts = [
        {
            "campaign_id": k[0],
            "period_start": k[1],
            "employee_id": k[2],
            "metric_key": k[3],
            **_columns(agg, now),
        }
        for k, agg in fresh.items()
        if k not in existing
    ]
    if updates:
        conn.execute(
            campaign_progress.update()
            .where(
                t.campaign_id == bindparam("k_c"),
                t.period_start == bindparam("k_p"),
                t.employee_id == bindparam("k_e"),
                t.metric_key == bindparam("k_m"),
            )
            .values({name: bindparam(name) for name in _columns(Aggregate(), now)}),
            updates,
        )
    if inserts:
        conn.execute(campaign_progress.insert(), inserts)


def _max_may_drop(
    metric: MetricDefinition, aggregate: Aggregate, moves: Sequence[tuple[int, Decimal]]
) -> bool:
    """Taking away a value at the current maximum needs a re-read; anything else does not."""
    if metric.aggregation != "max":
        return False
    top = aggregate.max
    return any(sign < 0 and (top is None or value >= top) for sign, value in moves)


def _raised(aggregate: Aggregate, added: Sequence[Decimal]) -> Aggregate:
    if not added:
        return aggregate
    top = max(added) if aggregate.max is None else max(aggregate.max, *added)
    return Aggregate(aggregate.sum, aggregate.count, top, aggregate.distinct)


def _matches(
    live: Sequence[LiveCampaign], state: TransactionState
) -> Iterable[tuple[LiveCampaign, MetricDefinition, date]]:
    for campaign in live:
        if state.employee_id not in campaign.participants:
            continue
        period = campaign.definition.schedule.period_at(state.occurred_at)
        if period is None:
            continue
        for metric in campaign.definition.metrics:
            if metric.takes(state.metric, state.attributes):
                yield campaign, metric, period.start


def _lock(conn: Connection, pairs: Sequence[tuple[str, str]]) -> None:
    if conn.dialect.name != "postgresql":
        return  # one writer
    for campaign_id, employee_id in pairs:
        key = zlib.crc32(f"{campaign_id}/{employee_id}".encode()) - 2**31
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


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
    wanted = list(metrics or campaign.definition.metrics)
    who = sorted(employees if employees is not None else campaign.participants)
    start, until = campaign.definition.schedule.span()
    t = transactions.c
    query = select(t.employee_id, t.metric, t.value, t.occurred_at, t.attributes).where(
        t.environment_id == campaign.environment_id,
        t.status == "active",
        t.metric.in_(sorted({m.source_metric for m in wanted})),
        t.employee_id.in_(who),
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
    return {key: fold(pairs) for key, pairs in values.items()}


def stored(conn: Connection, campaign_id: str) -> dict[ProgressKey, Aggregate]:
    """The live aggregates as stored (rows that fold to nothing are left out)."""
    rows = conn.execute(
        select(campaign_progress).where(campaign_progress.c.campaign_id == campaign_id)
    )
    out = {
        (r.campaign_id, r.period_start, r.employee_id, r.metric_key): _aggregate(r) for r in rows
    }
    return {key: agg for key, agg in out.items() if agg.count}


def rebuild(conn: Connection, campaign: LiveCampaign, now: datetime) -> set[tuple[str, date, str]]:
    """Replace the campaign's stored aggregates with a recompute."""
    conn.execute(delete(campaign_progress).where(campaign_progress.c.campaign_id == campaign.id))
    fresh = recompute(conn, campaign)
    _store_many(conn, fresh, set(), now)
    return {(k[0], k[1], k[2]) for k in fresh}


def rebuild_participants(
    conn: Connection, campaign: LiveCampaign, employee_ids: Sequence[str], now: datetime
) -> set[tuple[str, date, str]]:
    """Recompute some employees' aggregates: kept for participants, dropped for the others
    (removed ones stop counting). Returns what was touched, before and after."""
    who = sorted(set(employee_ids))
    _lock(conn, [(campaign.id, e) for e in who])
    t = campaign_progress.c
    mine = (t.campaign_id == campaign.id, t.employee_id.in_(who))
    before = conn.execute(select(t.period_start, t.employee_id).where(*mine).distinct()).all()
    conn.execute(delete(campaign_progress).where(*mine))
    staying = [e for e in who if e in campaign.participants]
    fresh = recompute(conn, campaign, employees=staying) if staying else {}
    _store_many(conn, fresh, set(), now)
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
