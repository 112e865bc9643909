"""Surveys as stored: the record, its lookups and the status checks every action shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Row, Table, func, select

from plaudit.domain.errors import Conflict, NotFound
from plaudit.domain.survey_rules import Answer, Question
from plaudit.store.engagement_tables import survey_responses, survey_targets, surveys
from plaudit.store.rows import from_row, to_json

DRAFT: Final = "draft"
PUBLISHED: Final = "published"
COMPLETED: Final = "completed"
STATUSES: Final = (DRAFT, PUBLISHED, COMPLETED)


@dataclass(frozen=True, slots=True)
class Survey:
    id: str
    environment_id: str
    title: str
    description: str
    questions: tuple[Question, ...]
    anonymous: bool
    allow_edits: bool
    status: str
    audience_groups: tuple[str, ...]
    closes_at: datetime | None
    published_at: datetime | None
    completed_at: datetime | None
    completion_reason: str | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return to_json(
            self,
            omit=("environment_id",),
            questions=[question.to_json() for question in self.questions],
            audience_groups=list(self.audience_groups),
        )


@dataclass(frozen=True, slots=True)
class SurveyView:
    """A survey with its audience counts, as the API shows it."""

    survey: Survey
    targeted: int
    responded: int

    def to_json(self) -> dict[str, Any]:
        return {**self.survey.to_json(), "targeted": self.targeted, "responded": self.responded}


def survey_record(row: Row[Any]) -> Survey:
    return from_row(
        Survey,
        row,
        questions=tuple(Question.from_json(raw) for raw in row.questions),
        audience_groups=tuple(row.audience_groups),
    )


def load_survey(
    conn: Connection, environment_id: str, survey_id: str, *, for_update: bool = False
) -> Survey:
    """The survey, or 404. `for_update` locks its row (PostgreSQL) so actions on one survey
    take turns: the last two responses cannot both miss each other and leave it open."""
    query = select(surveys).where(
        surveys.c.environment_id == environment_id, surveys.c.id == survey_id
    )
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no survey {survey_id}", code="survey_not_found")
    return survey_record(row)


def require_status(survey: Survey, wanted: str, action: str) -> None:
    """409 naming the survey's actual status when an action needs another one."""
    if survey.status == wanted:
        return
    codes = {
        DRAFT: "survey_not_published",
        PUBLISHED: "survey_published",
        COMPLETED: "survey_completed",
    }
    raise Conflict(
        f"cannot {action}: survey {survey.id} is {survey.status}",
        code=codes[survey.status],
        details={"survey_id": survey.id, "status": survey.status},
    )


def targeted_count(conn: Connection, survey_id: str) -> int:
    return _rows_of(conn, survey_targets, survey_id)


def responded_count(conn: Connection, survey_id: str) -> int:
    return _rows_of(conn, survey_responses, survey_id)


def _rows_of(conn: Connection, table: Table, survey_id: str) -> int:
    query = select(func.count()).select_from(table).where(table.c.survey_id == survey_id)
    return int(conn.execute(query).scalar_one())


def survey_view(conn: Connection, survey: Survey) -> SurveyView:
    return SurveyView(survey, targeted_count(conn, survey.id), responded_count(conn, survey.id))


def all_answers(conn: Connection, survey_id: str) -> list[tuple[Answer, ...]]:
    rows = conn.execute(
        select(survey_responses.c.answers).where(survey_responses.c.survey_id == survey_id)
    ).scalars()
    return [tuple(Answer.from_json(raw) for raw in answers) for answers in rows]
