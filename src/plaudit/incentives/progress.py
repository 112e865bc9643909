"""Live progress: per (campaign, period, participant, metric) running aggregates, stored one
row per (campaign, period, participant) (`progress_rows`).

Two ways to the same numbers, and a test holds them equal:

* `apply_batch` (live): each `TransactionChange` takes its `before` out and puts its
  `after` in, inside the loading transaction. SUM, COUNT and AVG move by the delta; MAX
  rises with what is added, and is re-read from `transactions` only when a value at the
  current maximum is taken away; COUNT DISTINCT moves by the values whose count (kept in
  the entry, `distinct_values`) goes from 0 or to 0. Per batch: one read of the touched
  progress rows, one write of those that changed. Campaigns of one shape (same schedule,
  same metrics but for targets and weights) hold equal rows: a row is worked out once per
  shape, period, participant and stored text, and each campaign writes its own copy.
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
import itertools
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

import orjson
from sqlalchemy import Connection, delete, select, text

from plaudit.domain.incentive_periods import Schedule
from plaudit.domain.incentive_rules import (
    ZERO,
    Aggregate,
    Aggregation,
    MetricDefinition,
    aggregate_value,
    distinct_key,
    fold,
)
from plaudit.incentives import distinct_values
from plaudit.incentives.definition import CampaignDefinition, definition_from_row
from plaudit.incentives.progress_rows import (
    Entry,
    State,
    Touched,
    aggregate,
    entry,
    read_texts,
    state_text,
    stored_states,
    value,
    write_states,
    write_texts,
)
from plaudit.ingest.transactions import TransactionChange
from plaudit.store.incentive_tables import (
    campaign_participants,
    campaign_progress,
)
from plaudit.store.ingest_tables import transactions
from plaudit.store.membership import one_of

ProgressKey = tuple[str, date, str, str]  # campaign, period start, employee, metric key
DistinctKey = tuple[str, date, str, str, str]  # a progress key and a value key
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
    (campaign, period start, participant). Touched rows with one number in `rows` hold the
    same values before and after (campaigns of one shape moved them as one)."""

    before: Mapping[Touched, Mapping[str, Decimal]]
    after: Mapping[Touched, Mapping[str, Decimal]]
    rows: Mapping[Touched, int]


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


Move = tuple[int, Decimal, str | None]  # sign, value, distinct value key
Member = tuple[str, Mapping[str, object]]  # a campaign's id and participants
Plan = list[tuple[str, Aggregation, bool]]  # per metric: key, aggregation, counts distinct
# A row's new state and its text, whether it changed, the metrics' values before and after,
# and the metrics whose maximum must be re-read.
Applied = tuple[State, str, bool, dict[str, Decimal], dict[str, Decimal], list[str]]


def apply_batch(
    conn: Connection,
    live: Sequence[LiveCampaign],
    changes: Sequence[TransactionChange],
    now: datetime,
) -> Moved:
    """Move the aggregates of a batch; returns the touched participants' values.

    Campaigns of one shape (`_shapes`) keep the same row for a participant of both, so a
    row whose stored text another campaign of its shape already moved in this batch (same
    period and participant, hence the same moves) takes that result instead of working it
    out again; only its write is its own."""
    by_id = {campaign.id: campaign for campaign in live}
    shapes = _shapes(live)
    moves = _moves(live, shapes, changes)
    if not moves:
        return Moved({}, {}, {})
    _lock(conn, sorted({triple[2] for triple in moves}))
    current = read_texts(conn, list(moves))
    plans: dict[int, Plan] = {
        shapes[campaign.id]: [
            (m.key, m.aggregation, m.distinct_attribute is not None)
            for m in campaign.definition.metrics
        ]
        for campaign in live
    }
    done: dict[tuple[int, date, str, str | None], tuple[int, Applied]] = {}
    rows: dict[Touched, int] = {}
    fresh: dict[Touched, State] = {}
    texts: dict[Touched, str] = {}
    before: dict[Touched, dict[str, Decimal]] = {}
    after: dict[Touched, dict[str, Decimal]] = {}
    scans: set[ProgressKey] = set()
    for triple, by_metric in moves.items():
        shape, stored_text = shapes[triple[0]], current.get(triple)
        memo = (shape, triple[1], triple[2], stored_text)
        found = done.get(memo)
        if found is None:
            found = done[memo] = (len(done), _applied(plans[shape], stored_text, by_metric))
        rows[triple], applied = found
        fresh[triple], new_text, changed, before[triple], after[triple], gone = applied
        if changed:
            texts[triple] = new_text
        scans.update((*triple, key) for key in gone)  # the maximum may have gone: re-read it
    apart = itertools.count(len(done))
    for scanned, again in _rescanned(conn, by_id, shapes, scans).items():
        triple = (scanned[0], scanned[1], scanned[2])
        metric = by_id[scanned[0]].definition.metric(scanned[3])
        # Copies: the state and values may be shared with campaigns of the same shape.
        state = fresh[triple] = {**fresh[triple], metric.key: entry(again)}
        texts[triple] = state_text(state)
        after[triple] = {**after[triple], metric.key: again.value(metric.aggregation)}
        rows[triple] = next(apart)  # a number of its own: moved apart
    write_texts(conn, texts, now)
    return Moved(before, after, rows)


def _applied(plan: Plan, stored_text: str | None, by_metric: Mapping[str, list[Move]]) -> Applied:
    """A row's state with its moves applied (see `Applied`)."""
    state: State = {} if stored_text is None else orjson.loads(stored_text)
    was: dict[str, Decimal] = {}
    now_values: dict[str, Decimal] = {}
    gone: list[str] = []
    new = dict(state)
    for key, aggregation, counts_distinct in plan:
        found = state.get(key)
        mine = by_metric.get(key)
        if mine is None:
            was[key] = now_values[key] = value(found, aggregation)
            continue
        moved, was[key], now_value, maximum_gone = _moved(found, mine, aggregation)
        if maximum_gone:
            gone.append(key)
        if counts_distinct:
            counts, moved[3] = distinct_values.moved(found, mine)
            moved.append(counts)
            now_value = Decimal(moved[3])
        now_values[key] = now_value
        new[key] = moved
    changed = new != state
    return new, state_text(new) if changed else "", changed, was, now_values, gone


def _moved(
    found: Entry | None, mine: Sequence[Move], aggregation: Aggregation
) -> tuple[Entry, Decimal, Decimal, bool]:
    """An entry with a metric's moves applied (its max text as it was), the metric's value
    before and after (what `value` gives for the entries, without reading them twice), and
    whether a value at the maximum was taken away (the maximum must then be re-read)."""
    if found is None:
        total, count, top, distinct = ZERO, 0, None, 0
        was = ZERO
    else:
        total, count = Decimal(found[0]), found[1]
        top = None if found[2] is None else Decimal(found[2])
        distinct = found[3]
        was = aggregate_value(aggregation, total, count, top, distinct)
    is_max = aggregation == "max"
    raised = False
    gone = False
    for sign, amount, _ in mine:
        if sign > 0:
            total += amount
            count += 1
            if top is None or amount > top:
                top, raised = amount, True
        else:
            total -= amount
            count -= 1
            if is_max and (top is None or amount >= top):
                gone = True
    # str() of a Decimal reads back as the same number (cheaper than decimal_text).
    top_text = str(top) if raised else (None if found is None else found[2])
    after = aggregate_value(aggregation, total, count, top, distinct)
    return [str(total), count, top_text, distinct], was, after, gone


def _shapes(live: Sequence[LiveCampaign]) -> dict[str, int]:
    """Each campaign's shape, numbered: campaigns share one when their schedules and their
    metrics but for targets and weights (keys, sources, filters, aggregations, distinct
    attributes) are equal, so a participant's transactions fold into the same row in each."""
    numbers: dict[object, int] = {}
    out: dict[str, int] = {}
    for campaign in live:
        definition = campaign.definition
        shape = (
            definition.schedule,
            tuple(
                (
                    m.key,
                    m.source_metric,
                    tuple(m.filters.items()),
                    m.aggregation,
                    m.distinct_attribute,
                )
                for m in definition.metrics
            ),
        )
        out[campaign.id] = numbers.setdefault(shape, len(numbers))
    return out


def _moves(
    live: Sequence[LiveCampaign], shapes: Mapping[str, int], changes: Sequence[TransactionChange]
) -> dict[Touched, dict[str, list[Move]]]:
    """Each touched (campaign, period, participant)'s moves, per metric key.

    Campaigns share schedules, metric filters and distinct attributes (equal definitions):
    each transaction state is matched against each distinct one once, not per campaign, and
    its moves are listed once per shape, in one list the campaigns of that shape share."""
    schedules: dict[Schedule, int] = {}
    matchers: dict[tuple[str, tuple[tuple[str, object], ...]], int] = {}
    matching: list[MetricDefinition] = []  # one metric per distinct (source, filters)
    attributes_kept: dict[str, int] = {}
    plans: dict[int, tuple[int, list[tuple[str, int, int | None]], list[Member]]] = {}
    for campaign in live:
        shape = shapes[campaign.id]
        if shape in plans:
            plans[shape][2].append((campaign.id, campaign.participants))
            continue
        metrics = []
        for m in campaign.definition.metrics:
            matcher = matchers.setdefault(
                (m.source_metric, tuple(m.filters.items())), len(matchers)
            )
            if matcher == len(matching):
                matching.append(m)
            distinct = (
                None
                if m.distinct_attribute is None
                else attributes_kept.setdefault(m.distinct_attribute, len(attributes_kept))
            )
            metrics.append((m.key, matcher, distinct))
        schedule = schedules.setdefault(campaign.definition.schedule, len(schedules))
        plans[shape] = (schedule, metrics, [(campaign.id, campaign.participants)])
    periods: list[dict[date, date | None]] = [{} for _ in schedules]
    zones = [schedule.zone for schedule in schedules]
    out: dict[Touched, dict[str, list[Move]]] = {}
    shared: dict[tuple[int, date, str], dict[str, list[Move]]] = {}
    for change in changes:
        for sign, state in ((-1, change.before), (1, change.after)):
            if state is None:
                continue
            who, attributes, source = state.employee_id, state.attributes, state.metric
            takes = [m.takes(source, attributes) for m in matching]
            if not any(takes):
                continue
            keys = [
                None if (raw := attributes.get(name)) is None else value_key(raw)
                for name in attributes_kept
            ]
            starts = [
                _period(schedule, zones[i], periods[i], state.occurred_at)
                for schedule, i in schedules.items()
            ]
            amount = state.value
            for shape, (schedule_index, metrics, campaigns) in plans.items():
                start = starts[schedule_index]
                if start is None:
                    continue
                members = [c for c, participants in campaigns if who in participants]
                if not members:
                    continue
                by_metric: dict[str, list[Move]] | None = None
                for key, matcher, distinct in metrics:
                    if not takes[matcher]:
                        continue
                    if by_metric is None:
                        by_metric = shared.setdefault((shape, start, who), {})
                    found_key = None if distinct is None else keys[distinct]
                    by_metric.setdefault(key, []).append((sign, amount, found_key))
                if by_metric is not None:
                    for campaign_id in members:
                        out.setdefault((campaign_id, start, who), by_metric)
    return out


def _period(
    schedule: Schedule, zone: tzinfo, seen: dict[date, date | None], instant: datetime
) -> date | None:
    """The start of the period holding `instant` (None: outside the schedule), remembered
    per day in the schedule's time zone (what `Schedule.period_at` looks at)."""
    day = instant.astimezone(zone).date()
    if day in seen:
        return seen[day]
    found = schedule.period_on(day)
    seen[day] = start = None if found is None else found.start
    return start


def value_key(raw: object) -> str:
    """How a distinct value is stored: its text, or a digest of a long one (never equal to
    a short value, since those looking like a digest are digested too)."""
    textual = distinct_key(raw)
    if len(textual) <= _LONG_VALUE and not textual.startswith("sha256:"):
        return textual
    return "sha256:" + hashlib.sha256(textual.encode()).hexdigest()


def _rescanned(
    conn: Connection,
    by_id: Mapping[str, LiveCampaign],
    shapes: Mapping[str, int],
    scans: set[ProgressKey],
) -> dict[ProgressKey, Aggregate]:
    """The aggregates of `scans` read again from the records, one scan per campaign shape
    (campaigns of one shape fold the same records into the same aggregates)."""
    by_shape: dict[int, list[ProgressKey]] = defaultdict(list)
    for key in sorted(scans):
        by_shape[shapes[key[0]]].append(key)
    out: dict[ProgressKey, Aggregate] = {}
    for mine in by_shape.values():
        campaign = by_id[mine[0][0]]
        metrics = [campaign.definition.metric(m) for m in sorted({k[3] for k in mine})]
        found = recompute(conn, campaign, employees=sorted({k[2] for k in mine}), metrics=metrics)
        out.update({k: found.get((campaign.id, *k[1:]), EMPTY) for k in mine})
    return out


def _store_many(
    conn: Connection,
    campaign: LiveCampaign,
    now: datetime,
    employees: Sequence[str] | None = None,
) -> set[Touched]:
    """Recompute aggregates and their counted distinct values (all participants' or some),
    and write them where their rows were just deleted; returns their triples."""
    values = _collected(conn, campaign, employees, None)
    states: dict[Touched, State] = defaultdict(dict)
    for (c, p, e, m), pairs in values.items():
        states[(c, p, e)][m] = entry(fold(pairs))
    distinct_values.attach(states, _counted(values))
    write_states(conn, states, now)
    return set(states)


def _lock(conn: Connection, employee_ids: Sequence[str]) -> None:
    if conn.dialect.name != "postgresql":
        return  # one writer
    keys = sorted({zlib.crc32(employee_id.encode()) - 2**31 for employee_id in employee_ids})
    conn.execute(
        text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k"),
        {"keys": keys},
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
    """The distinct values' counts from scratch (what the entries must count)."""
    return _counted(_collected(conn, campaign, employees, None))


def _counted(
    values: Mapping[ProgressKey, Sequence[tuple[Decimal, object]]],
) -> dict[DistinctKey, int]:
    out: dict[DistinctKey, int] = defaultdict(int)
    for key, pairs in values.items():
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
    """The live aggregates as stored (those that fold to nothing are left out)."""
    out: dict[ProgressKey, Aggregate] = {}
    for period_start, employee_id, state in stored_states(conn, campaign_id):
        for metric_key, found in state.items():
            if found[1]:
                out[(campaign_id, period_start, employee_id, metric_key)] = aggregate(found)
    return out


def stored_distinct(conn: Connection, campaign_id: str) -> dict[DistinctKey, int]:
    """The counted distinct values as stored (those counting)."""
    out: dict[DistinctKey, int] = {}
    for period_start, employee_id, state in stored_states(conn, campaign_id):
        for metric_key, found in state.items():
            for value_key_, count in distinct_values.counted(found).items():
                out[(campaign_id, period_start, employee_id, metric_key, value_key_)] = count
    return out


def rebuild(conn: Connection, campaign: LiveCampaign, now: datetime) -> set[Touched]:
    """Replace the campaign's stored aggregates (and distinct values) with a recompute."""
    conn.execute(delete(campaign_progress).where(campaign_progress.c.campaign_id == campaign.id))
    return _store_many(conn, campaign, now)


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
    staying = [e for e in who if e in campaign.participants]
    touched = _store_many(conn, campaign, now, employees=staying) if staying else set()
    return {(campaign.id, r.period_start, r.employee_id) for r in before} | touched


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
    out: dict[str, dict[str, Decimal]] = {}
    metrics = campaign.definition.metrics
    for _, employee_id, state in stored_states(conn, campaign.id, period_start, employee_ids):
        out[employee_id] = {m.key: value(state.get(m.key), m.aggregation) for m in metrics}
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
