"""Request and response bodies of the survey routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from plaudit.api.schemas import StrictModel
from plaudit.domain.errors import ValidationFailed
from plaudit.domain.survey_rules import (
    MAX_OPTIONS,
    MAX_PROMPT_CHARS,
    MAX_QUESTIONS,
    QuestionSpec,
    QuestionType,
)

MAX_AUDIENCE_IDS = 10_000


class QuestionIn(StrictModel):
    id: str | None = Field(
        default=None, max_length=40, description="Only when editing a draft: keep this id"
    )
    type: QuestionType
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    required: bool = True
    options: list[str] | None = Field(
        default=None, max_length=MAX_OPTIONS, description="Choice questions: 2 to 50 distinct"
    )
    max_selections: int | None = Field(
        default=None, ge=1, description="multiple_choice only; default: no limit"
    )

    def spec(self) -> QuestionSpec:
        return QuestionSpec(
            type=self.type,
            prompt=self.prompt,
            required=self.required,
            options=self.options,
            max_selections=self.max_selections,
            id=self.id,
        )


class SurveyIn(StrictModel):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=2000)
    questions: list[QuestionIn] = Field(min_length=1, max_length=MAX_QUESTIONS)
    anonymous: bool = Field(default=False, description="Responses never name the employee")
    allow_edits: bool = Field(
        default=False, description="A second response replaces the first instead of a 409"
    )
    closes_at: AwareDatetime | None = Field(
        default=None, description="Completed automatically at this time"
    )


class SurveyPatch(StrictModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=2000)
    questions: list[QuestionIn] | None = Field(default=None, min_length=1, max_length=MAX_QUESTIONS)
    anonymous: bool | None = None
    allow_edits: bool | None = None
    closes_at: AwareDatetime | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent; `closes_at: null` removes the deadline."""
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is None and name != "closes_at":
                raise ValidationFailed(f"`{name}` cannot be null", details={"field": name})
            if name == "questions":
                value = [question.spec() for question in value]
            out[name] = value
        return out


class PublishIn(StrictModel):
    employee_ids: list[str] = Field(default_factory=list, max_length=MAX_AUDIENCE_IDS)
    group_ids: list[str] = Field(default_factory=list, max_length=100)


class AnswerIn(StrictModel):
    question_id: str = Field(max_length=40)
    value: Any = Field(
        description=(
            "rating: integer 1-5; nps: integer 0-10; single_choice: one option; "
            "multiple_choice: list of distinct options; text: string up to 5000 characters. "
            "null (or blank text) leaves an optional question unanswered."
        )
    )


class ResponseIn(StrictModel):
    employee_id: str = Field(max_length=40)
    answers: list[AnswerIn] = Field(max_length=MAX_QUESTIONS)


class QuestionOut(BaseModel):
    id: str
    type: str
    prompt: str
    required: bool
    options: list[str] | None
    max_selections: int | None


class SurveyOut(BaseModel):
    id: str
    title: str
    description: str
    questions: list[QuestionOut]
    anonymous: bool
    allow_edits: bool
    status: str = Field(description="draft, published or completed")
    audience_groups: list[str]
    closes_at: datetime | None
    published_at: datetime | None
    completed_at: datetime | None
    completion_reason: str | None = Field(description="closed or all_responded")
    targeted: int = Field(description="Employees in the audience")
    responded: int
    created_at: datetime
    updated_at: datetime


class AnswerOut(BaseModel):
    question_id: str
    type: str
    value: int | str | list[str]


class ResponseOut(BaseModel):
    id: str
    survey_id: str
    employee_id: str | None = Field(description="null for anonymous surveys")
    answers: list[AnswerOut]
    submitted_at: datetime
    updated_at: datetime


class CountOut(BaseModel):
    value: int | str
    count: int


class QuestionResultOut(BaseModel):
    question_id: str
    type: str
    prompt: str
    responses: int
    average: float | None = Field(description="rating and nps questions only")
    distribution: list[CountOut] | None = Field(
        description="Answers per score or option; null for text"
    )


class ResultsOut(BaseModel):
    survey_id: str
    status: str
    targeted: int
    responded: int
    response_rate: float
    questions: list[QuestionResultOut]
    enps: float | None = Field(description="From the first NPS question; null without answers")
