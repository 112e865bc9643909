"""Surveys: drafts, publishing to an audience, closing, and reading them back.

A draft can change freely. Publishing resolves the audience (named employees plus the
active members of named groups) to `survey_targets` once; from then on the questions are
frozen, because responses refer to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, func, select, update

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.domain.survey_results import SurveyResults
from plaudit.domain.survey_rules import QuestionSpec, check_plain_text, define_questions
from plaudit.engagement.directory import load_employees
from plaudit.engagement.group_audience import group_member_ids
from plaudit.engagement.survey_completion import complete_survey, survey_results
from plaudit.engagement.survey_records import (
    DRAFT,
    PUBLISHED,
    STATUSES,
    SurveyView,
    load_survey,
    require_status,
    survey_record,
    survey_view,
)
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft, rfc3339
from plaudit.store.database import Database
from plaudit.store.engagement_tables import survey_responses, survey_targets, surveys
from plaudit.store.pagination import Page, keyset, page_of

EDITABLE: Final = frozenset(
    {"title", "description", "questions", "anonymous", "allow_edits", "closes_at"}
)


@dataclass(frozen=True, slots=True)
class SurveyDraft:
    title: str
    questions: Sequence[QuestionSpec]
    description: str = ""
    anonymous: bool = False
    allow_edits: bool = False
    closes_at: datetime | None = None


class SurveyService:
    def __init__(self, db: Database, clock: Clock, event_log: EventLog) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log

    async def create(self, environment_id: str, draft: SurveyDraft) -> SurveyView:
        now = self._clock.now()
        _check_texts(draft.title, draft.description)
        _check_closes_at(draft.closes_at, now)
        questions = define_questions(draft.questions)
        survey_id = new_id("srv")

        def unit(conn: Connection) -> SurveyView:
            conn.execute(
                surveys.insert().values(
                    id=survey_id,
                    environment_id=environment_id,
                    title=draft.title.strip(),
                    description=draft.description,
                    questions=[question.to_json() for question in questions],
                    anonymous=draft.anonymous,
                    allow_edits=draft.allow_edits,
                    status=DRAFT,
                    audience_groups=[],
                    closes_at=draft.closes_at,
                    created_at=now,
                    updated_at=now,
                )
            )
            return survey_view(conn, load_survey(conn, environment_id, survey_id))

        return await self._db.write(unit)

    async def update(
        self, environment_id: str, survey_id: str, changes: Mapping[str, Any]
    ) -> SurveyView:
        """Change a draft; anything published or completed is frozen (409)."""
        assert set(changes) <= EDITABLE, set(changes) - EDITABLE
        now = self._clock.now()
        _check_texts(changes.get("title", "x"), changes.get("description", ""))
        if changes.get("closes_at") is not None:
            _check_closes_at(changes["closes_at"], now)

        def unit(conn: Connection) -> SurveyView:
            survey = load_survey(conn, environment_id, survey_id, for_update=True)
            require_status(survey, DRAFT, "change the survey")
            values: dict[str, Any] = {**changes, "updated_at": now}
            if "title" in changes:
                values["title"] = changes["title"].strip()
            if "questions" in changes:
                kept = frozenset(question.id for question in survey.questions)
                defined = define_questions(changes["questions"], existing_ids=kept)
                values["questions"] = [question.to_json() for question in defined]
            conn.execute(update(surveys).where(surveys.c.id == survey.id).values(**values))
            return survey_view(conn, load_survey(conn, environment_id, survey_id))

        return await self._db.write(unit)

    async def publish(
        self,
        environment_id: str,
        survey_id: str,
        *,
        employee_ids: Sequence[str],
        group_ids: Sequence[str],
    ) -> SurveyView:
        """Resolve the audience, store it and open the survey (`survey.published`)."""
        if not employee_ids and not group_ids:
            raise ValidationFailed(
                "name at least one employee or group to publish to",
                code="empty_audience",
                details={"fields": ["employee_ids", "group_ids"]},
            )
        now = self._clock.now()
        groups = list(dict.fromkeys(group_ids))

        def unit(conn: Connection) -> SurveyView:
            survey = load_survey(conn, environment_id, survey_id, for_update=True)
            require_status(survey, DRAFT, "publish")
            _check_closes_at(survey.closes_at, now)
            named = load_employees(conn, environment_id, employee_ids, field="employee_ids")
            audience = sorted(set(named) | group_member_ids(conn, environment_id, groups))
            if not audience:
                raise ValidationFailed(
                    "the audience has no active employee (the groups have no active members)",
                    code="empty_audience",
                    details={"group_ids": groups},
                )
            conn.execute(
                survey_targets.insert(),
                [{"survey_id": survey.id, "employee_id": target} for target in audience],
            )
            conn.execute(
                update(surveys)
                .where(surveys.c.id == survey.id, surveys.c.status == DRAFT)
                .values(status=PUBLISHED, published_at=now, audience_groups=groups, updated_at=now)
            )
            payload = {
                "survey_id": survey.id,
                "title": survey.title,
                "questions_count": len(survey.questions),
                "audience": {"employees": len(audience), "groups": groups},
                "closes_at": rfc3339(survey.closes_at) if survey.closes_at else None,
                "published_at": rfc3339(now),
            }
            events = self._event_log.prepare([EventDraft("survey.published", payload)])
            self._event_log.store(conn, environment_id, events)
            return survey_view(conn, load_survey(conn, environment_id, survey_id))

        return await self._db.write(unit)

    async def close(self, environment_id: str, survey_id: str) -> SurveyView:
        """Stop collecting responses now (`survey.completed`, reason `closed`)."""
        now = self._clock.now()

        def unit(conn: Connection) -> SurveyView:
            survey = load_survey(conn, environment_id, survey_id, for_update=True)
            require_status(survey, PUBLISHED, "close")
            if not complete_survey(conn, self._event_log, survey, "closed", now):
                raise Conflict(f"survey {survey_id} is already completed", code="survey_completed")
            return survey_view(conn, load_survey(conn, environment_id, survey_id))

        return await self._db.write(unit)

    async def get(self, environment_id: str, survey_id: str) -> SurveyView:
        return await self._db.read_with(
            lambda conn: survey_view(conn, load_survey(conn, environment_id, survey_id))
        )

    async def results(
        self, environment_id: str, survey_id: str
    ) -> tuple[SurveyView, SurveyResults]:
        """Live aggregates over the responses stored so far."""

        def unit(conn: Connection) -> tuple[SurveyView, SurveyResults]:
            survey = load_survey(conn, environment_id, survey_id)
            return survey_view(conn, survey), survey_results(conn, survey)

        return await self._db.read_with(unit)

    async def list(
        self, environment_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> Page[SurveyView]:
        """Newest first."""
        if status is not None and status not in STATUSES:
            raise ValidationFailed(
                f"status must be one of {', '.join(STATUSES)}",
                details={"field": "status", "value": status},
            )
        query = select(surveys).where(surveys.c.environment_id == environment_id)
        if status is not None:
            query = query.where(surveys.c.status == status)
        query = keyset(query, surveys.c.id, "desc", cursor, limit)

        def unit(conn: Connection) -> list[SurveyView]:
            found = [survey_record(row) for row in conn.execute(query).all()]
            ids = [survey.id for survey in found]
            targeted = _counts(conn, survey_targets.c.survey_id, ids)
            responded = _counts(conn, survey_responses.c.survey_id, ids)
            return [SurveyView(s, targeted.get(s.id, 0), responded.get(s.id, 0)) for s in found]

        rows = await self._db.read_with(unit)
        return page_of(rows, limit, "desc", list, id_of=lambda view: view.survey.id)


def _counts(conn: Connection, column: Any, survey_ids: list[str]) -> dict[str, int]:
    if not survey_ids:
        return {}
    rows = conn.execute(
        select(column, func.count()).where(column.in_(survey_ids)).group_by(column)
    ).all()
    return {row[0]: int(row[1]) for row in rows}


def _check_texts(title: str, description: str) -> None:
    if not title.strip():
        raise ValidationFailed("title must not be blank", details={"field": "title"})
    check_plain_text(title, "title")
    check_plain_text(description, "description")


def _check_closes_at(closes_at: datetime | None, now: datetime) -> None:
    if closes_at is not None and closes_at <= now:
        raise ValidationFailed(
            "closes_at must be in the future",
            code="closes_at_passed",
            details={"field": "closes_at", "closes_at": closes_at.isoformat()},
        )
