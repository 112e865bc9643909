"""The outbox contract of EventLog: events and hook writes commit or vanish together."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import SystemClock
from plaudit.domain.errors import Conflict, InvalidEventData
from plaudit.domain.event_catalog import default_catalog
from plaudit.domain.ids import new_id
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft, StoredEvent
from plaudit.store.tables import events, organizations
from plaudit.tenancy.models import CreatedOrganization


class Boom(Exception):
    pass


def draft(event_type: str = "milestone.birthday", **kw: Any) -> EventDraft:
    data = copy.deepcopy(dict(default_catalog().get(event_type).example))
    return EventDraft(type=event_type, data=data, **kw)


@pytest.fixture
def log() -> EventLog:
    # A log of our own: hooks added here never reach the shared app's log.
    return EventLog(default_catalog(), SystemClock())


@pytest.fixture
def env_id(org: CreatedOrganization) -> str:
    return org.environment_ids[Environment.PRODUCTION]


async def stored_ids(container: Container, env_id: str) -> list[str]:
    async with container.db.read() as conn:
        rows = await conn.execute(
            select(events.c.id).where(events.c.environment_id == env_id).order_by(events.c.id)
        )
        return [row.id for row in rows]


class Recorder:
    """A hook that writes nothing and records what it saw, from inside the transaction."""

    def __init__(self) -> None:
        self.calls: list[tuple[Connection, list[StoredEvent]]] = []
        self.visible_inside: list[int] = []

    def __call__(self, conn: Connection, batch: Sequence[StoredEvent]) -> None:
        self.calls.append((conn, list(batch)))
        ids = [e.id for e in batch]
        query = select(func.count()).select_from(events).where(events.c.id.in_(ids))
        self.visible_inside.append(conn.execute(query).scalar_one())


class Raiser:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, conn: Connection, batch: Sequence[StoredEvent]) -> None:
        self.calls += 1
        raise Boom("fan-out failed")


async def test_append_commits_with_the_transaction(
    container: Container, log: EventLog, env_id: str
) -> None:
    async with container.db.transaction() as conn:
        stored = await log.append(conn, env_id, draft(idempotency_key="commit-1"))
    assert stored.created is True
    assert stored.environment_id == env_id
    assert await stored_ids(container, env_id) == [stored.id]
    async with container.db.read() as conn:
        row = (await conn.execute(select(events).where(events.c.id == stored.id))).one()
    assert row.type == "milestone.birthday"
    assert row.data == draft().data
    assert row.schema_version == 1
    assert row.idempotency_key == "commit-1"
    assert row.request_hash is not None
    assert row.is_test is False
    assert row.created_at == stored.created_at


async def test_append_then_raise_leaves_no_event(
    container: Container, log: EventLog, env_id: str
) -> None:
    appended: list[StoredEvent] = []

    async def change_that_fails_after_appending() -> None:
        async with container.db.transaction() as conn:
            appended.append(await log.append(conn, env_id, draft()))
            appended.append(await log.append(conn, env_id, draft("badge.given")))
            raise Boom("the domain change failed after appending")

    with pytest.raises(Boom):
        await change_that_fails_after_appending()
    assert len(appended) == 2
    assert await stored_ids(container, env_id) == []
    # The rolled-back idempotency key is free again.
    async with container.db.transaction() as conn:
        again = await log.append(conn, env_id, draft(idempotency_key="k"))
    assert again.created is True


async def test_hooks_run_inside_the_appending_transaction(
    container: Container, log: EventLog, env_id: str
) -> None:
    recorder = Recorder()
    log.subscribe(recorder)
    async with container.db.transaction() as conn:
        stored = await log.append(conn, env_id, draft())
        assert len(recorder.calls) == 1
        assert recorder.calls[0][0] is conn.sync_connection
        # ...and nobody else can see the event before the transaction commits.
        assert await stored_ids(container, env_id) == []
    assert recorder.calls[0][1] == [stored]
    assert recorder.visible_inside == [1]  # the hook sees the uncommitted event
    assert await stored_ids(container, env_id) == [stored.id]


async def test_every_hook_is_called_in_subscription_order(
    container: Container, log: EventLog, env_id: str
) -> None:
    order: list[str] = []

    def named(name: str) -> Any:
        def hook(conn: Connection, batch: Sequence[StoredEvent]) -> None:
            order.append(name)

        return hook

    for name in ("first", "second", "third"):
        log.subscribe(named(name))
    async with container.db.transaction() as conn:
        await log.append(conn, env_id, draft())
    assert order == ["first", "second", "third"]


async def test_a_raising_hook_rolls_the_event_and_other_hook_writes_back(
    container: Container, log: EventLog, env_id: str
) -> None:
    org_id = new_id("org")

    def writer(conn: Connection, batch: Sequence[StoredEvent]) -> None:
        # Stands in for the fan-out rows a real hook adds in the same transaction.
        conn.execute(
            organizations.insert().values(
                id=org_id, name="outbox row", created_at=batch[0].created_at
            )
        )

    raiser = Raiser()
    log.subscribe(writer)
    log.subscribe(raiser)
    with pytest.raises(Boom):
        async with container.db.transaction() as conn:
            await log.append(conn, env_id, draft())
    assert raiser.calls == 1
    assert await stored_ids(container, env_id) == []
    async with container.db.read() as conn:
        leftover = await conn.execute(
            select(organizations.c.id).where(organizations.c.id == org_id)
        )
        assert leftover.first() is None


async def test_idempotent_replays_do_not_call_hooks_again(
    container: Container, log: EventLog, env_id: str
) -> None:
    recorder = Recorder()
    log.subscribe(recorder)
    async with container.db.transaction() as conn:
        first = await log.append(conn, env_id, draft(idempotency_key="once"))
    async with container.db.transaction() as conn:
        replay = await log.append(conn, env_id, draft(idempotency_key="once"))
    assert first.created is True
    assert replay.created is False
    assert replay.id == first.id
    assert replay.data == first.data
    assert len(recorder.calls) == 1

    # A batch mixing a replay with a new event fans out only the new one.
    async with container.db.transaction() as conn:
        mixed = await log.append_many(
            conn, env_id, [draft(idempotency_key="once"), draft("badge.given")]
        )
    assert [e.created for e in mixed] == [False, True]
    assert mixed[0].id == first.id
    assert len(recorder.calls) == 2
    assert [e.id for e in recorder.calls[1][1]] == [mixed[1].id]
    assert await stored_ids(container, env_id) == sorted([first.id, mixed[1].id])


async def test_reused_key_with_another_body_is_a_conflict_and_calls_no_hook(
    container: Container, log: EventLog, env_id: str
) -> None:
    async with container.db.transaction() as conn:
        first = await log.append(conn, env_id, draft(idempotency_key="clash"))
    recorder = Recorder()
    log.subscribe(recorder)
    changed = draft(idempotency_key="clash")
    changed.data["occurred_on"] = "2027-01-01"
    with pytest.raises(Conflict) as info:
        async with container.db.transaction() as conn:
            await log.append(conn, env_id, changed)
    assert info.value.code == "idempotency_key_reused"
    assert info.value.details == {"event_id": first.id}
    assert recorder.calls == []
    assert await stored_ids(container, env_id) == [first.id]


async def test_append_many_keeps_order(container: Container, log: EventLog, env_id: str) -> None:
    recorder = Recorder()
    log.subscribe(recorder)
    types = [
        "survey.completed",
        "badge.given",
        "milestone.birthday",
        "voucher.issued",
        "badge.given",
        "employee.activated",
    ]
    async with container.db.transaction() as conn:
        stored = await log.append_many(conn, env_id, [draft(t) for t in types])
    assert [e.type for e in stored] == types
    ids = [e.id for e in stored]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert [e.created_at for e in stored] == sorted(e.created_at for e in stored)
    assert len(recorder.calls) == 1  # one call for the whole batch
    assert recorder.calls[0][1] == stored
    assert await stored_ids(container, env_id) == ids


async def test_an_invalid_draft_in_a_batch_stores_none_of_it(
    container: Container, log: EventLog, env_id: str
) -> None:
    recorder = Recorder()
    log.subscribe(recorder)
    broken = draft("badge.given")
    broken.data.pop("giver")
    with pytest.raises(InvalidEventData) as info:
        async with container.db.transaction() as conn:
            await log.append_many(conn, env_id, [draft(), broken, draft("voucher.issued")])
    assert info.value.details == [
        {"path": "data.giver", "message": "'giver' is a required property"}
    ]
    assert recorder.calls == []
    assert await stored_ids(container, env_id) == []


async def test_unstorable_data_is_refused_before_anything_is_written(
    container: Container, log: EventLog, env_id: str
) -> None:
    too_big = draft("milestone.work_anniversary")
    too_big.data["years"] = 2**64
    with pytest.raises(InvalidEventData) as info:
        async with container.db.transaction() as conn:
            await log.append(conn, env_id, too_big)
    assert info.value.details == [
        {"path": "data.years", "message": "integer is beyond the 64-bit range"}
    ]
    assert await stored_ids(container, env_id) == []
