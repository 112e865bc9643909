"""Survey aggregates: response rate, per-question averages and counts, and employee NPS.

Pure arithmetic over stored answers. Rounding is for people reading the numbers: rates to
4 decimals (0.775), averages to 2 (4.13), eNPS to 1 (32.8).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from plaudit.domain.survey_rules import CHOICE_TYPES, NUMERIC_RANGES, Answer, Question

PROMOTER_MIN: Final = 9  # 9-10 promote
DETRACTOR_MAX: Final = 6  # 0-6 detract; 7-8 are passives and only count in the total


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question_id: str
    type: str
    prompt: str
    responses: int
    average: float | None  # rating and nps only
    # How often each score or option was chosen, in scale or option order; None for text.
    distribution: tuple[tuple[str | int, int], ...] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id,
            "type": self.type,
            "prompt": self.prompt,
            "responses": self.responses,
            "average": self.average,
            "distribution": (
                [{"value": value, "count": count} for value, count in self.distribution]
                if self.distribution is not None
                else None
            ),
        }

    def event_json(self) -> dict[str, Any]:
        """The shape `survey.completed` carries per question."""
        return {
            "question_id": self.question_id,
            "type": self.type,
            "average": self.average,
            "responses": self.responses,
        }


@dataclass(frozen=True, slots=True)
class SurveyResults:
    targeted: int
    responded: int
    response_rate: float
    questions: tuple[QuestionResult, ...]
    enps: float | None  # from the first NPS question; None without one or without answers

    def to_json(self) -> dict[str, Any]:
        return {
            "targeted": self.targeted,
            "responded": self.responded,
            "response_rate": self.response_rate,
            "questions": [question.to_json() for question in self.questions],
            "enps": self.enps,
        }


def summarize(
    questions: Sequence[Question], responses: Iterable[Sequence[Answer]], targeted: int
) -> SurveyResults:
    values: dict[str, list[Any]] = {question.id: [] for question in questions}
    responded = 0
    for answers in responses:
        responded += 1
        for answer in answers:
            if answer.question_id in values:
                values[answer.question_id].append(answer.value)
    results = tuple(_question_result(question, values[question.id]) for question in questions)
    first_nps = next((q for q in questions if q.type == "nps"), None)
    return SurveyResults(
        targeted=targeted,
        responded=responded,
        response_rate=response_rate(responded, targeted),
        questions=results,
        enps=enps(values[first_nps.id]) if first_nps is not None else None,
    )


def response_rate(responded: int, targeted: int) -> float:
    if targeted <= 0:
        return 0.0
    return round(min(responded, targeted) / targeted, 4)


def enps(scores: Sequence[int]) -> float | None:
    """% promoters (9-10) minus % detractors (0-6), from -100 to 100; None without scores."""
    if not scores:
        return None
    promoters = sum(1 for score in scores if score >= PROMOTER_MIN)
    detractors = sum(1 for score in scores if score <= DETRACTOR_MAX)
    return round(100 * (promoters - detractors) / len(scores), 1)


def _question_result(question: Question, values: Sequence[Any]) -> QuestionResult:
    average: float | None = None
    distribution: tuple[tuple[str | int, int], ...] | None = None
    if question.type in NUMERIC_RANGES:
        low, high = NUMERIC_RANGES[question.type]
        if values:
            average = round(sum(values) / len(values), 2)
        counts = Counter(values)
        distribution = tuple((score, counts[score]) for score in range(low, high + 1))
    elif question.type in CHOICE_TYPES:
        chosen: Counter[str] = Counter()
        for value in values:
            chosen.update(value if isinstance(value, list) else [value])
        distribution = tuple((option, chosen[option]) for option in question.options or ())
    return QuestionResult(
        question_id=question.id,
        type=question.type,
        prompt=question.prompt,
        responses=len(values),
        average=average,
        distribution=distribution,
    )
