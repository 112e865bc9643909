"""Endpoint health: disabled only after failing continuously for the configured time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from plaudit.app_container import Container
from plaudit.delivery.claim_queries import CIRCUIT_THRESHOLD
from plaudit.delivery.endpoint_models import EndpointSpec
from plaudit.delivery.models import AttemptResult, ClaimedMessage, Outcome
from plaudit.delivery.results import Recorded, ResultWriter, circuit_pause
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.store.tables import endpoints, events
from plaudit.tenancy.models import CreatedOrganization

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _attempt(endpoint_id: str, environment_id: str, outcome: Outcome, at: datetime) -> Recorded:
    message = ClaimedMessage(
        id="msg_01JEXAMPLE0000000000000000",  # unknown id: the message update is a no-op
        environment_id=environment_id,
        endpoint_id=endpoint_id,
        event_id="evt_01JEXAMPLE0000000000000000",
        event_type="milestone.birthday",
        attempt_count=0,
        schedule_position=0,
        was_exhausted=False,
        endpoint_updated_at=at,
        event_timestamp="2026-12-01T08:00:00.000Z",
    )
    code = 200 if outcome is Outcome.SUCCESS else 500
    return Recorded(message, AttemptResult(outcome, code, 5.0), at, (0, 5))


async def _endpoint_row(container: Container, endpoint_id: str) -> dict[str, object]:
    async with container.db.read() as conn:
        row = (await conn.execute(select(endpoints).where(endpoints.c.id == endpoint_id))).one()
    return dict(row._mapping)


async def test_disabled_after_five_days_of_continuous_failure_not_before(
    container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    endpoint, _ = await container.endpoints.create(
        env, EndpointSpec(url="http://127.0.0.1:9/hook", enabled=True)
    )
    clock = ManualClock(T0)
    writer = ResultWriter(
        container.db,
        clock,
        container.event_log,
        disable_after=timedelta(days=5),
        operational_types=frozenset(container.operational_catalog.names()),
    )

    await writer.write("w", [_attempt(endpoint.id, env, Outcome.HTTP_ERROR, T0)])
    clock.set(T0 + timedelta(days=4, hours=23))
    await writer.write("w", [_attempt(endpoint.id, env, Outcome.HTTP_ERROR, clock.now())])
    row = await _endpoint_row(container, endpoint.id)
    assert row["enabled"] is True
    assert row["failing_since"] == T0

    clock.set(T0 + timedelta(days=5, minutes=1))
    await writer.write("w", [_attempt(endpoint.id, env, Outcome.HTTP_ERROR, clock.now())])
    row = await _endpoint_row(container, endpoint.id)
    assert row["enabled"] is False
    assert row["disabled_reason"] == "failing"
    async with container.db.read() as conn:
        notices = (
            await conn.execute(
                select(events.c.data).where(
                    events.c.environment_id == env, events.c.type == "endpoint.disabled"
                )
            )
        ).all()
    assert [n.data["endpoint_id"] for n in notices] == [endpoint.id]
    assert notices[0].data["reason"] == "failing"


async def test_one_success_resets_the_failure_streak(
    container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    endpoint, _ = await container.endpoints.create(env, EndpointSpec(url="http://127.0.0.1:9/x"))
    clock = ManualClock(T0)
    writer = ResultWriter(
        container.db,
        clock,
        container.event_log,
        disable_after=timedelta(days=5),
        operational_types=frozenset(),
    )
    await writer.write("w", [_attempt(endpoint.id, env, Outcome.TIMEOUT, T0)])
    clock.set(T0 + timedelta(days=3))
    await writer.write("w", [_attempt(endpoint.id, env, Outcome.SUCCESS, clock.now())])
    clock.set(T0 + timedelta(days=6))
    await writer.write("w", [_attempt(endpoint.id, env, Outcome.TIMEOUT, clock.now())])
    row = await _endpoint_row(container, endpoint.id)
    assert row["enabled"] is True
    assert row["failing_since"] == T0 + timedelta(days=6)


async def test_repeated_failures_pause_the_endpoint_with_growing_backoff(
    container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    endpoint, _ = await container.endpoints.create(env, EndpointSpec(url="http://127.0.0.1:9/y"))
    clock = ManualClock(T0)
    writer = ResultWriter(
        container.db,
        clock,
        container.event_log,
        disable_after=timedelta(days=5),
        operational_types=frozenset(),
    )
    failures = [_attempt(endpoint.id, env, Outcome.CONNECTION_ERROR, T0)] * (CIRCUIT_THRESHOLD - 1)
    await writer.write("w", failures)
    assert (await _endpoint_row(container, endpoint.id))["paused_until"] is None
    await writer.write("w", [_attempt(endpoint.id, env, Outcome.CONNECTION_ERROR, T0)])
    row = await _endpoint_row(container, endpoint.id)
    assert row["paused_until"] == T0 + circuit_pause(CIRCUIT_THRESHOLD)
    assert circuit_pause(CIRCUIT_THRESHOLD + 3) == timedelta(seconds=8)
    assert circuit_pause(CIRCUIT_THRESHOLD + 30) == timedelta(minutes=2)
    await writer.write("w", [_attempt(endpoint.id, env, Outcome.SUCCESS, T0)])
    row = await _endpoint_row(container, endpoint.id)
    assert row["paused_until"] is None
    assert row["consecutive_failures"] == 0
