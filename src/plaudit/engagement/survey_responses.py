"""Survey responses: one per targeted employee, checked against the questions.

A second response is refused (409 `already_responded`) unless the survey allows edits; then
it replaces the first one's answers, keeps its id, and raises `survey.response_submitted`
again. The response that leaves no active target unanswered completes the survey in the
same transaction. Responses to one survey take turns on the survey's row lock, so two
parallel last responses cannot both miss each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, exists, func, select, update

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict
from plaudit.domain.ids import new_id
from plaudit.domain.survey_rules import Answer, check_answers
from plaudit.engagement.directory import ACTIVE, load_employee
from plaudit.engagement.survey_completion import complete_survey
from plaudit.engagement.survey_records import PUBLISHED, Survey, load_survey, require_status
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft, rfc3339
from plaudit.store.database import Database
from plaudit.store.engagement_tables import employees, survey_responses, survey_targets
from plaudit.store.pagination import Page, keyset, page_of
from plaudit.store.rows import from_row, to_json


@dataclass(frozen=True, slots=True)
class SurveyResponse:
    id: str
    survey_id: str
    employee_id: str | None  # None when the survey is anonymous: never shown
    answers: tuple[Answer, ...]
    submitted_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return to_json(self, answers=[answer.to_json() for answer in self.answers])


@dataclass(frozen=True, slots=True)
class Submitted:
    response: SurveyResponse
    created: bool  # False when an earlier response's answers were replaced


class SurveyResponseService:
    def __init__(self, db: Database, clock: Clock, event_log: EventLog) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log

    async def submit(
        self,
        environment_id: str,
        survey_id: str,
        employee_id: str,
        answers: Sequence[tuple[str, Any]],
    ) -> Submitted:
        now = self._clock.now()

        def unit(conn: Connection) -> Submitted:
            survey = load_survey(conn, environment_id, survey_id, for_update=True)
            require_status(survey, PUBLISHED, "respond")
            if survey.closes_at is not None and survey.closes_at <= now:
                raise Conflict(
                    f"survey {survey.id} closed at {rfc3339(survey.closes_at)}",
                    code="survey_closed",
                    details={"survey_id": survey.id, "closes_at": rfc3339(survey.closes_at)},
                )
            employee = load_employee(conn, environment_id, employee_id)
            _require_target(conn, survey, employee_id)
            checked = check_answers(survey.questions, answers)
            response_id, created = _store(conn, survey, employee_id, checked, now)
            payload = {
                "survey_id": survey.id,
                "response_id": response_id,
                "respondent": None if survey.anonymous else employee.ref(),
                "anonymous": survey.anonymous,
                "answers": [answer.to_json() for answer in checked],
                "submitted_at": rfc3339(now),
            }
            draft = EventDraft("survey.response_submitted", payload)
            self._event_log.store(conn, environment_id, self._event_log.prepare([draft]))
            if created and _unanswered_targets(conn, survey.id) == 0:
                complete_survey(conn, self._event_log, survey, "all_responded", now)
            row = conn.execute(
                select(survey_responses).where(survey_responses.c.id == response_id)
            ).one()
            return Submitted(_response(row, survey.anonymous), created)

        return await self._db.write(unit)

    async def list(
        self, environment_id: str, survey_id: str, *, limit: int, cursor: str | None
    ) -> Page[SurveyResponse]:
        """Oldest first; anonymous surveys' responses carry no employee id."""

        def unit(conn: Connection) -> tuple[Survey, list[Row[Any]]]:
            survey = load_survey(conn, environment_id, survey_id)
            query = select(survey_responses).where(survey_responses.c.survey_id == survey.id)
            rows = conn.execute(keyset(query, survey_responses.c.id, "asc", cursor, limit)).all()
            return survey, list(rows)

        survey, rows = await self._db.read_with(unit)
        return page_of(
            rows, limit, "asc", lambda shown: [_response(r, survey.anonymous) for r in shown]
        )


def _require_target(conn: Connection, survey: Survey, employee_id: str) -> None:
    targeted = conn.execute(
        select(survey_targets.c.employee_id).where(
            survey_targets.c.survey_id == survey.id, survey_targets.c.employee_id == employee_id
        )
    ).first()
    if targeted is None:
        raise Conflict(
            f"employee {employee_id} is not in the audience of survey {survey.id}",
            code="not_in_audience",
            details={"survey_id": survey.id, "employee_id": employee_id},
        )


def _store(
    conn: Connection, survey: Survey, employee_id: str, answers: Sequence[Answer], now: datetime
) -> tuple[str, bool]:
    """Insert the response, or replace an earlier one's answers when edits are allowed."""
    stored = [answer.to_json() for answer in answers]
    earlier = conn.execute(
        select(survey_responses.c.id).where(
            survey_responses.c.survey_id == survey.id,
            survey_responses.c.employee_id == employee_id,
        )
    ).scalar_one_or_none()
    if earlier is None:
        response_id = new_id("rsp")
        conn.execute(
            survey_responses.insert().values(
                id=response_id,
                survey_id=survey.id,
                employee_id=employee_id,
                answers=stored,
                submitted_at=now,
                updated_at=now,
            )
        )
        return response_id, True
    if not survey.allow_edits:
        raise Conflict(
            f"employee {employee_id} already responded to survey {survey.id}",
            code="already_responded",
            details={"survey_id": survey.id, "response_id": earlier},
        )
    conn.execute(
        update(survey_responses)
        .where(survey_responses.c.id == earlier)
        .values(answers=stored, updated_at=now)
    )
    return earlier, False


def _unanswered_targets(conn: Connection, survey_id: str) -> int:
    """Active targets without a response (a deactivated one can no longer answer)."""
    answered = exists().where(
        survey_responses.c.survey_id == survey_id,
        survey_responses.c.employee_id == survey_targets.c.employee_id,
    )
    return int(
        conn.execute(
            select(func.count())
            .select_from(survey_targets)
            .join(employees, employees.c.id == survey_targets.c.employee_id)
            .where(survey_targets.c.survey_id == survey_id, employees.c.status == ACTIVE, ~answered)
        ).scalar_one()
    )


def _response(row: Row[Any], anonymous: bool) -> SurveyResponse:
    return from_row(
        SurveyResponse,
        row,
        employee_id=None if anonymous else row.employee_id,
        answers=tuple(Answer.from_json(raw) for raw in row.answers),
    )
