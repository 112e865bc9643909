"""Sources: create, read, change, pause, resume, delete, rotate the secret.

A source's push URL is `/ingest/<token>`, the token 32 random bytes (URL-safe base64): it
names the source and cannot be guessed, but the verification scheme is what authenticates.
Secrets are shown once, when created or rotated; afterwards only a hint. Changing the template
adds a version (old versions are kept: every record names the version that mapped it).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.ingest.dedupe import DEDUPE, Dedupe
from plaudit.ingest.models import ACTIVE, DELETED, PAUSED, Source, load_source
from plaudit.ingest.pipeline import IngestPipeline
from plaudit.ingest.records import RECORD_TYPES
from plaudit.ingest.templates import check_template
from plaudit.ingest.verification import (
    VERIFICATION,
    SourceSecret,
    Verification,
    check_secret,
    new_secret,
    with_rotation,
)
from plaudit.store.database import Database
from plaudit.store.ingest_tables import ingest_sources, ingest_templates
from plaudit.store.pagination import Cursor, Page, decode_cursor, encode_cursor
from plaudit.transform.jsonata_engine import TemplateError

_BAD_VERIFICATION = "invalid_verification"


@dataclass(frozen=True, slots=True)
class SourceWithSecret:
    source: Source
    secret: str | None  # the plain secret, right after creation or rotation only


def template_problem(source: str) -> None:
    """Raise 422 `invalid_template` with the position of the problem."""
    try:
        check_template(source)
    except TemplateError as exc:
        raise ValidationFailed(
            f"template: {exc}",
            code="invalid_template",
            details={"position": exc.position, "engine_code": exc.code, "message": exc.message},
        ) from exc


def parse_verification(raw: Mapping[str, Any]) -> tuple[Verification, str | None]:
    """The scheme from the API body, with its first secret (given, or generated)."""
    given = dict(raw)
    if "secrets" in given:
        raise ValidationFailed(
            "verification.secrets: give one `secret` (or none to have one generated)",
            code=_BAD_VERIFICATION,
        )
    secret = given.pop("secret", None)
    try:
        scheme = VERIFICATION.validate_python(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValidationFailed(
            f"verification.{where}: {first['msg']}" if where else f"verification: {first['msg']}",
            code=_BAD_VERIFICATION,
            details={"known_types": ["hmac", "standard_webhooks", "basic_auth", "api_key", "none"]},
        ) from exc
    if scheme.type == "none":
        if secret is not None:
            raise ValidationFailed(
                "verification: `none` takes no secret", code="invalid_verification"
            )
        return scheme, None
    if secret is not None:
        if not isinstance(secret, str):
            raise ValidationFailed(
                "verification.secret must be a string", code="invalid_verification"
            )
        try:
            check_secret(scheme, secret)
        except ValueError as exc:
            raise ValidationFailed(
                f"verification.secret: {exc}", code="invalid_verification"
            ) from exc
    value = secret or new_secret(scheme)
    return scheme.model_copy(update={"secrets": (SourceSecret(value=value),)}), value


def parse_dedupe(raw: Mapping[str, Any]) -> Dedupe:
    try:
        return DEDUPE.validate_python(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationFailed(
            f"dedupe: {first['msg']}", code="invalid_dedupe", details={"loc": first["loc"]}
        ) from exc


class SourceService:
    def __init__(self, db: Database, clock: Clock, pipeline: IngestPipeline) -> None:
        self._db = db
        self._clock = clock
        self._pipeline = pipeline

    async def create(
        self,
        environment_id: str,
        *,
        name: str,
        kind: str,
        record_type: str,
        template: str,
        verification: Mapping[str, Any],
        dedupe: Mapping[str, Any],
    ) -> SourceWithSecret:
        if record_type not in RECORD_TYPES:
            raise ValidationFailed(f"record_type must be one of {', '.join(RECORD_TYPES)}")
        scheme, secret = parse_verification(verification)
        dedupe_config = parse_dedupe(dedupe)
        template_problem(template)
        now = self._clock.now()
        source_id = new_id("src")

        def unit(conn: Connection) -> Source:
            conn.execute(
                ingest_sources.insert().values(
                    id=source_id,
                    environment_id=environment_id,
                    name=name,
                    kind=kind,
                    record_type=record_type,
                    status=ACTIVE,
                    token=secrets.token_urlsafe(32),
                    verification=scheme.model_dump(mode="json"),
                    dedupe=dedupe_config.model_dump(mode="json"),
                    template_version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                ingest_templates.insert().values(
                    source_id=source_id, version=1, template=template, created_at=now
                )
            )
            return self._require(conn, environment_id, source_id)

        return SourceWithSecret(await self._db.write(unit), secret)

    async def get(self, environment_id: str, source_id: str) -> Source:
        return await self._db.read_with(lambda c: self._require(c, environment_id, source_id))

    async def by_token(self, token: str) -> Source | None:
        if len(token) > 64 or "\x00" in token:
            return None
        return await self._db.read_with(lambda c: load_source(c, token=token))

    async def list_sources(
        self, environment_id: str, *, limit: int, cursor: str | None
    ) -> Page[Source]:
        after = decode_cursor(cursor) if cursor else None

        def unit(conn: Connection) -> list[Source]:
            query = (
                select(ingest_sources.c.id)
                .where(
                    ingest_sources.c.environment_id == environment_id,
                    ingest_sources.c.status != DELETED,
                )
                .order_by(ingest_sources.c.id)
                .limit(limit + 1)
            )
            if after is not None:
                query = query.where(ingest_sources.c.id > after.after_id)
            ids = conn.execute(query).scalars().all()
            return [self._require(conn, environment_id, i) for i in ids]

        found = await self._db.read_with(unit)
        more = len(found) > limit
        items = found[:limit]
        next_cursor = encode_cursor(Cursor(items[-1].id, "asc")) if more else None
        return Page(items=items, next_cursor=next_cursor)

    async def update(
        self,
        environment_id: str,
        source_id: str,
        *,
        name: str | None = None,
        template: str | None = None,
        dedupe: Mapping[str, Any] | None = None,
    ) -> Source:
        if template is not None:
            template_problem(template)
        dedupe_config = parse_dedupe(dedupe) if dedupe is not None else None
        now = self._clock.now()

        def unit(conn: Connection) -> Source:
            current = self._require(conn, environment_id, source_id)
            values: dict[str, Any] = {"updated_at": now}
            if name is not None:
                values["name"] = name
            if dedupe_config is not None:
                values["dedupe"] = dedupe_config.model_dump(mode="json")
            if template is not None and template != current.template:
                version = current.template_version + 1
                conn.execute(
                    ingest_templates.insert().values(
                        source_id=source_id, version=version, template=template, created_at=now
                    )
                )
                values["template_version"] = version
            conn.execute(
                update(ingest_sources).where(ingest_sources.c.id == source_id).values(**values)
            )
            return self._require(conn, environment_id, source_id)

        try:
            return await self._db.write(unit)
        except IntegrityError as exc:  # two template changes at once: one wins
            raise Conflict(
                "the source changed meanwhile; try again", code="concurrent_change"
            ) from exc

    async def _set_status(self, environment_id: str, source_id: str, status: str) -> None:
        now = self._clock.now()

        def unit(conn: Connection) -> None:
            self._require(conn, environment_id, source_id)
            values: dict[str, Any] = {"status": status, "updated_at": now}
            if status == DELETED:
                values["token"] = None  # the URL stops answering at once
            conn.execute(
                update(ingest_sources).where(ingest_sources.c.id == source_id).values(**values)
            )

        await self._db.write(unit)

    async def pause(self, environment_id: str, source_id: str) -> Source:
        await self._set_status(environment_id, source_id, PAUSED)
        return await self.get(environment_id, source_id)

    async def resume(self, environment_id: str, source_id: str) -> Source:
        """Resume, then process what arrived while paused (held requests), oldest first."""
        await self._set_status(environment_id, source_id, ACTIVE)
        await self._pipeline.process_pending(source_id, environment_id)
        return await self.get(environment_id, source_id)

    async def delete(self, environment_id: str, source_id: str) -> None:
        """The URL stops answering; received requests and records stay for audit."""
        await self._set_status(environment_id, source_id, DELETED)

    async def rotate_secret(
        self, environment_id: str, source_id: str, *, overlap_s: int
    ) -> SourceWithSecret:
        now = self._clock.now()

        def unit(conn: Connection) -> tuple[Source, str]:
            current = self._require(conn, environment_id, source_id)
            if current.verification.type == "none":
                raise ValidationFailed(
                    "this source has no secret (verification none)", code="no_secret"
                )
            secret = new_secret(current.verification)
            rotated = with_rotation(current.verification, secret, now, overlap_s)
            conn.execute(
                update(ingest_sources)
                .where(ingest_sources.c.id == source_id)
                .values(verification=rotated.model_dump(mode="json"), updated_at=now)
            )
            return self._require(conn, environment_id, source_id), secret

        source, secret = await self._db.write(unit)
        return SourceWithSecret(source, secret)

    async def template_versions(self, environment_id: str, source_id: str) -> list[dict[str, Any]]:
        def unit(conn: Connection) -> list[dict[str, Any]]:
            self._require(conn, environment_id, source_id)
            rows = conn.execute(
                select(ingest_templates)
                .where(ingest_templates.c.source_id == source_id)
                .order_by(ingest_templates.c.version.desc())
            )
            return [
                {"version": r.version, "template": r.template, "created_at": r.created_at}
                for r in rows
            ]

        return await self._db.read_with(unit)

    @staticmethod
    def _require(conn: Connection, environment_id: str, source_id: str) -> Source:
        found = None
        if "\x00" not in source_id:
            found = load_source(conn, source_id=source_id, environment_id=environment_id)
        if found is None:
            raise NotFound(f"no source {source_id!r}", code="source_not_found")
        return found
