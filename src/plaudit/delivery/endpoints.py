"""Endpoints: create, read, update, delete, rotate secrets, send test events."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from plaudit.delivery.endpoint_lookup import require_endpoint
from plaudit.delivery.endpoint_models import Endpoint, EndpointSpec
from plaudit.delivery.endpoint_rules import validate_headers
from plaudit.delivery.fanout import assign_fifo_sequence, message_row
from plaudit.delivery.outbound_rules import (
    OutboundPolicy,
    UrlRefused,
    check_url_resolves,
    check_url_syntax,
)
from plaudit.delivery.wakeup import Wakeup
from plaudit.domain.clock import Clock
from plaudit.domain.errors import InvalidRequest, ValidationFailed
from plaudit.domain.event_catalog import EventCatalog
from plaudit.domain.ids import new_id
from plaudit.domain.retry import validate_schedule
from plaudit.domain.signing import generate_secret, secret_key
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft
from plaudit.store.database import Database
from plaudit.store.pagination import Cursor, Page, decode_cursor, encode_cursor
from plaudit.store.tables import endpoint_secrets, endpoints, messages
from plaudit.transform.field_selection import FieldSelection
from plaudit.transform.jsonata_engine import TemplateError, compile_template

DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
MAX_ROTATION_OVERLAP = timedelta(days=7)


@dataclasses.dataclass(frozen=True, slots=True)
class TestSend:
    event_id: str
    message_id: str


class EndpointService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalog: EventCatalog,
        operational: EventCatalog,
        event_log: EventLog,
        wakeup: Wakeup,
        policy: OutboundPolicy,
        url_resolver: Callable[[str, OutboundPolicy], Any] = check_url_resolves,
    ) -> None:
        self._db = db
        self._clock = clock
        self._catalog = catalog
        self._operational = operational
        self._event_log = event_log
        self._wakeup = wakeup
        self._policy = policy
        self._resolve = url_resolver

    async def create(
        self, environment_id: str, spec: EndpointSpec, secret: str | None = None
    ) -> tuple[Endpoint, str]:
        spec = await self._validated(spec)
        secret = self._validated_secret(secret) if secret else generate_secret()
        now = self._clock.now()
        endpoint_id = new_id("ep")
        async with self._db.transaction() as conn:
            await conn.execute(
                endpoints.insert().values(
                    id=endpoint_id,
                    environment_id=environment_id,
                    **_spec_columns(spec),
                    disabled_reason=None if spec.enabled else "manual",
                    fifo_next_seq=0,
                    consecutive_failures=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            await conn.execute(
                endpoint_secrets.insert().values(
                    endpoint_id=endpoint_id, secret=secret, created_at=now
                )
            )
            endpoint = await _fetch(conn, environment_id, endpoint_id)
        return endpoint, secret

    async def get(self, environment_id: str, endpoint_id: str) -> Endpoint:
        async with self._db.read() as conn:
            return await _fetch(conn, environment_id, endpoint_id)

    async def list(
        self, environment_id: str, *, limit: int, cursor: str | None = None
    ) -> Page[Endpoint]:
        position = decode_cursor(cursor) if cursor else None
        query = select(endpoints).where(
            endpoints.c.environment_id == environment_id, endpoints.c.deleted_at.is_(None)
        )
        if position is not None:
            query = query.where(endpoints.c.id > position.after_id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query.order_by(endpoints.c.id).limit(limit + 1))).all()
        items = [_endpoint(row) for row in rows[:limit]]
        more = len(rows) > limit
        next_cursor = encode_cursor(Cursor(items[-1].id, "asc")) if more else None
        return Page(items=items, next_cursor=next_cursor)

    async def update(
        self, environment_id: str, endpoint_id: str, changes: Mapping[str, Any]
    ) -> Endpoint:
        current = await self.get(environment_id, endpoint_id)
        merged = dataclasses.replace(current.spec, **changes)
        if "fields" in changes and changes["fields"] is not None:
            merged = dataclasses.replace(merged, template=None)
        if "template" in changes and changes["template"] is not None:
            merged = dataclasses.replace(merged, fields=None)
        spec = await self._validated(merged, check_url="url" in changes)
        now = self._clock.now()
        values: dict[str, Any] = {**_spec_columns(spec), "updated_at": now}
        if spec.enabled and not current.spec.enabled:
            # Re-enabled by hand: start with a clean slate; the backlog flows again.
            values |= {
                "disabled_reason": None,
                "failing_since": None,
                "consecutive_failures": 0,
                "paused_until": None,
            }
        elif not spec.enabled and current.spec.enabled:
            values["disabled_reason"] = "manual"
        async with self._db.transaction() as conn:
            await conn.execute(
                update(endpoints).where(endpoints.c.id == endpoint_id).values(**values)
            )
            if spec.fifo and not current.spec.fifo:
                await _number_backlog(conn, endpoint_id)
            if spec.enabled:
                await conn.run_sync(self._wakeup.announce)
            return await _fetch(conn, environment_id, endpoint_id)

    async def delete(self, environment_id: str, endpoint_id: str) -> None:
        now = self._clock.now()
        async with self._db.transaction() as conn:
            await _fetch(conn, environment_id, endpoint_id)
            await conn.execute(
                update(endpoints)
                .where(endpoints.c.id == endpoint_id)
                .values(deleted_at=now, enabled=False, updated_at=now)
            )
            await conn.execute(
                update(messages)
                .where(messages.c.endpoint_id == endpoint_id, messages.c.status == "pending")
                .values(status="cancelled", lease_owner=None, lease_expires_at=None, updated_at=now)
            )

    async def secret(self, environment_id: str, endpoint_id: str) -> str:
        async with self._db.read() as conn:
            await _fetch(conn, environment_id, endpoint_id)
            return str(
                (
                    await conn.execute(
                        select(endpoint_secrets.c.secret)
                        .where(endpoint_secrets.c.endpoint_id == endpoint_id)
                        .order_by(endpoint_secrets.c.id.desc())
                        .limit(1)
                    )
                ).scalar_one()
            )

    async def rotate_secret(
        self,
        environment_id: str,
        endpoint_id: str,
        *,
        overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
        secret: str | None = None,
    ) -> tuple[str, datetime]:
        """A new signing secret; the previous ones keep signing beside it until `overlap` ends."""
        if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
            raise ValidationFailed("overlap is between 0 and 7 days", code="invalid_overlap")
        new_secret = self._validated_secret(secret) if secret else generate_secret()
        now = self._clock.now()
        old_until = now + overlap
        async with self._db.transaction() as conn:
            await _fetch(conn, environment_id, endpoint_id)
            await conn.execute(
                update(endpoint_secrets)
                .where(
                    endpoint_secrets.c.endpoint_id == endpoint_id,
                    (endpoint_secrets.c.expires_at.is_(None))
                    | (endpoint_secrets.c.expires_at > old_until),
                )
                .values(expires_at=old_until)
            )
            await conn.execute(
                endpoint_secrets.insert().values(
                    endpoint_id=endpoint_id, secret=new_secret, created_at=now
                )
            )
            await conn.execute(
                update(endpoints).where(endpoints.c.id == endpoint_id).values(updated_at=now)
            )
        return new_secret, old_until

    async def send_test(self, environment_id: str, endpoint_id: str, event_type: str) -> TestSend:
        """Send the type's catalog example to this endpoint alone, marked as a test."""
        catalog = self._operational if event_type in self._operational else self._catalog
        if event_type not in catalog:
            raise InvalidRequest(f"unknown event type {event_type!r}", code="unknown_event_type")
        example = dict(catalog.get(event_type).example)
        async with self._db.transaction() as conn:
            endpoint = await _fetch(conn, environment_id, endpoint_id)
            event = await self._event_log.append(
                conn, environment_id, EventDraft(type=event_type, data=example, is_test=True)
            )
            row = message_row(environment_id, endpoint.id, event, self._clock.now())
            if endpoint.spec.fifo:
                await conn.run_sync(assign_fifo_sequence, endpoint.id, [row])
            await conn.execute(messages.insert().values(**row))
            await conn.run_sync(self._wakeup.announce)
        return TestSend(event_id=event.id, message_id=row["id"])

    async def _validated(self, spec: EndpointSpec, *, check_url: bool = True) -> EndpointSpec:
        url = spec.url
        if check_url:
            try:
                url = check_url_syntax(spec.url, self._policy)
                await self._resolve(url, self._policy)
            except UrlRefused as exc:
                raise ValidationFailed(
                    exc.reason, code="invalid_url", details={"url": spec.url}
                ) from exc
        unknown = [
            t for t in spec.event_types if t not in self._catalog and t not in self._operational
        ]
        if unknown:
            raise ValidationFailed(
                f"unknown event type {unknown[0]!r}", code="unknown_event_type", details=unknown
            )
        if spec.fields is not None and spec.template is not None:
            raise ValidationFailed("give `fields` or `template`, not both", code="invalid_shaping")
        if spec.fields is not None:
            try:
                FieldSelection(
                    include=tuple(spec.fields.get("include", ())),
                    exclude=tuple(spec.fields.get("exclude", ())),
                )
            except ValueError as exc:
                raise ValidationFailed(str(exc), code="invalid_fields") from exc
        if spec.template is not None:
            try:
                compile_template(spec.template)
            except TemplateError as exc:
                raise ValidationFailed(
                    f"template does not compile: {exc.message}",
                    code="invalid_template",
                    details={"position": exc.position, "engine_code": exc.code},
                ) from exc
        retry = None
        if spec.retry_schedule is not None:
            try:
                retry = validate_schedule(spec.retry_schedule)
            except ValueError as exc:
                raise ValidationFailed(str(exc), code="invalid_retry_schedule") from exc
        return dataclasses.replace(
            spec,
            url=url,
            headers=validate_headers(spec.headers),
            event_types=tuple(dict.fromkeys(spec.event_types)),
            retry_schedule=retry,
        )

    def _validated_secret(self, secret: str) -> str:
        try:
            secret_key(secret)
        except ValueError as exc:
            raise ValidationFailed(
                "secret must be whsec_ followed by base64 of 24-64 bytes", code="invalid_secret"
            ) from exc
        return secret


def _spec_columns(spec: EndpointSpec) -> dict[str, Any]:
    return {
        "url": spec.url,
        "description": spec.description,
        "event_types": list(spec.event_types),
        "headers": spec.headers,
        "rate_limit_per_s": spec.rate_limit_per_s,
        "timeout_s": spec.timeout_s,
        "fields": spec.fields,
        "template": spec.template,
        "retry_schedule": list(spec.retry_schedule) if spec.retry_schedule else None,
        "enabled": spec.enabled,
        "fifo": spec.fifo,
    }


async def _number_backlog(conn: AsyncConnection, endpoint_id: str) -> None:
    """Turning FIFO on: number the pending backlog in creation order."""
    pending = (
        await conn.execute(
            select(messages.c.id)
            .where(messages.c.endpoint_id == endpoint_id, messages.c.status == "pending")
            .order_by(messages.c.id)
        )
    ).all()
    rows = [{"id": row[0]} for row in pending]
    if not rows:
        return
    await conn.run_sync(assign_fifo_sequence, endpoint_id, rows)
    for row in rows:
        await conn.execute(
            update(messages).where(messages.c.id == row["id"]).values(fifo_seq=row["fifo_seq"])
        )


async def _fetch(conn: AsyncConnection, environment_id: str, endpoint_id: str) -> Endpoint:
    return _endpoint(await require_endpoint(conn, environment_id, endpoint_id))


def _endpoint(row: Row[Any]) -> Endpoint:
    return Endpoint(
        id=row.id,
        environment_id=row.environment_id,
        spec=EndpointSpec(
            url=row.url,
            description=row.description,
            event_types=tuple(row.event_types),
            headers=dict(row.headers),
            rate_limit_per_s=row.rate_limit_per_s,
            timeout_s=row.timeout_s,
            fields=row.fields,
            template=row.template,
            retry_schedule=tuple(row.retry_schedule) if row.retry_schedule else None,
            enabled=row.enabled,
            fifo=row.fifo,
        ),
        disabled_reason=row.disabled_reason,
        failing_since=row.failing_since,
        paused_until=row.paused_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
