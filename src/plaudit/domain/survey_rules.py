"""Survey questions and answers: what a question may be, and what answers each one accepts.

Pure rules, no I/O. Every problem is a ValidationFailed naming the question (by its path in
the request or by its id) and what is wrong, so a client can fix the request without guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from plaudit.domain.errors import ValidationFailed
from plaudit.domain.event_types.surveys import QUESTION_TYPES
from plaudit.domain.ids import new_id
from plaudit.domain.text_rules import text_problem

QuestionType = Literal["rating", "nps", "single_choice", "multiple_choice", "text"]
CHOICE_TYPES: Final = frozenset({"single_choice", "multiple_choice"})
NUMERIC_RANGES: Final[Mapping[str, tuple[int, int]]] = {"rating": (1, 5), "nps": (0, 10)}

MAX_QUESTIONS: Final = 100
MAX_PROMPT_CHARS: Final = 1000
MIN_OPTIONS: Final = 2
MAX_OPTIONS: Final = 50
MAX_OPTION_CHARS: Final = 200
MAX_TEXT_ANSWER_CHARS: Final = 5000


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    """A question as a client describes it; `id` only to keep a draft question's id."""

    type: str
    prompt: str
    required: bool = True
    options: Sequence[str] | None = None
    max_selections: int | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: QuestionType
    prompt: str
    required: bool
    options: tuple[str, ...] | None
    max_selections: int | None  # multiple_choice only; None = any number of options

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "prompt": self.prompt,
            "required": self.required,
            "options": list(self.options) if self.options is not None else None,
            "max_selections": self.max_selections,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Question:
        options = raw.get("options")
        return cls(
            id=raw["id"],
            type=raw["type"],
            prompt=raw["prompt"],
            required=raw["required"],
            options=tuple(options) if options is not None else None,
            max_selections=raw.get("max_selections"),
        )


@dataclass(frozen=True, slots=True)
class Answer:
    question_id: str
    type: QuestionType
    value: int | str | list[str]

    def to_json(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, list) else self.value
        return {"question_id": self.question_id, "type": self.type, "value": value}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Answer:
        return cls(question_id=raw["question_id"], type=raw["type"], value=raw["value"])


def check_plain_text(value: str, field: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        raise ValidationFailed(f"{field} {problem}", details={"field": field})


def define_questions(
    specs: Sequence[QuestionSpec],
    *,
    existing_ids: frozenset[str] = frozenset(),
    make_id: Callable[[], str] = lambda: new_id("q"),
) -> tuple[Question, ...]:
    """Validated questions with ids: a spec's own id is kept only if it is in `existing_ids`."""
    if not specs:
        raise ValidationFailed(
            "a survey needs at least one question",
            code="invalid_question",
            details={"field": "questions"},
        )
    if len(specs) > MAX_QUESTIONS:
        raise ValidationFailed(
            f"a survey has at most {MAX_QUESTIONS} questions",
            code="invalid_question",
            details={"field": "questions", "count": len(specs)},
        )
    questions: list[Question] = []
    seen_ids: set[str] = set()
    for index, spec in enumerate(specs):
        path = f"questions[{index}]"
        if spec.id is not None:
            if spec.id not in existing_ids or spec.id in seen_ids:
                _question_error(path + ".id", f"{spec.id} is not a question of this draft")
            seen_ids.add(spec.id)
        questions.append(_define(spec, path, spec.id or make_id()))
    return tuple(questions)


def _define(spec: QuestionSpec, path: str, question_id: str) -> Question:
    if spec.type not in QUESTION_TYPES:
        _question_error(f"{path}.type", f"must be one of {', '.join(QUESTION_TYPES)}")
    prompt = spec.prompt.strip()
    if not prompt or len(prompt) > MAX_PROMPT_CHARS:
        _question_error(f"{path}.prompt", f"must have 1 to {MAX_PROMPT_CHARS} characters")
    _text_ok(prompt, f"{path}.prompt")
    options: tuple[str, ...] | None = None
    if spec.type in CHOICE_TYPES:
        options = _options(spec.options, f"{path}.options")
    elif spec.options is not None:
        _question_error(f"{path}.options", f"a {spec.type} question has no options")
    max_selections = spec.max_selections
    if max_selections is not None:
        if spec.type != "multiple_choice":
            _question_error(f"{path}.max_selections", "only multiple_choice questions have it")
        assert options is not None
        if not 1 <= max_selections <= len(options):
            _question_error(
                f"{path}.max_selections", f"must be between 1 and {len(options)} (the options)"
            )
    return Question(
        id=question_id,
        type=cast(QuestionType, spec.type),
        prompt=prompt,
        required=spec.required,
        options=options,
        max_selections=max_selections,
    )


def _options(raw: Sequence[str] | None, path: str) -> tuple[str, ...]:
    if raw is None or not MIN_OPTIONS <= len(raw) <= MAX_OPTIONS:
        _question_error(path, f"a choice question needs {MIN_OPTIONS} to {MAX_OPTIONS} options")
    assert raw is not None
    options = tuple(option.strip() for option in raw)
    for index, option in enumerate(options):
        if not option or len(option) > MAX_OPTION_CHARS:
            _question_error(f"{path}[{index}]", f"must have 1 to {MAX_OPTION_CHARS} characters")
        _text_ok(option, f"{path}[{index}]")
    duplicates = sorted({option for option in options if options.count(option) > 1})
    if duplicates:
        _question_error(path, f"options must be distinct; repeated: {', '.join(duplicates)}")
    return options


def _text_ok(value: str, path: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        _question_error(path, problem)


def _question_error(path: str, problem: str) -> None:
    raise ValidationFailed(
        f"{path}: {problem}", code="invalid_question", details={"field": path, "problem": problem}
    )


# Answers ---------------------------------------------------------------------------------------


def check_answers(
    questions: Sequence[Question], submitted: Sequence[tuple[str, Any]]
) -> tuple[Answer, ...]:
    """The answers to keep, in question order, from (question_id, value) pairs.

    A null value, or blank text, counts as not answered. Checks, each naming every offender:
    unknown question ids, a question answered twice, values of the wrong type or range,
    then required questions left unanswered.
    """
    by_id = {question.id: question for question in questions}
    unknown = [question_id for question_id, _ in submitted if question_id not in by_id]
    if unknown:
        raise ValidationFailed(
            f"no question {', '.join(unknown)} in this survey",
            code="unknown_question",
            details={"question_ids": unknown},
        )
    ids = [question_id for question_id, _ in submitted]
    repeated = sorted({question_id for question_id in ids if ids.count(question_id) > 1})
    if repeated:
        raise ValidationFailed(
            f"question {', '.join(repeated)} answered more than once",
            code="duplicate_answer",
            details={"question_ids": repeated},
        )
    values: dict[str, int | str | list[str]] = {}
    problems: list[dict[str, str]] = []
    for question_id, raw in submitted:
        question = by_id[question_id]
        if _skipped(raw):
            continue
        problem = answer_problem(question, raw)
        if problem is None:
            values[question_id] = raw.strip() if isinstance(raw, str) else raw
        else:
            problems.append({"question_id": question_id, "type": question.type, "problem": problem})
    if problems:
        first = problems[0]
        raise ValidationFailed(
            f"answer to {first['question_id']} ({first['type']}) {first['problem']}",
            code="invalid_answer",
            details={"answers": problems},
        )
    missing = [q.id for q in questions if q.required and q.id not in values]
    if missing:
        raise ValidationFailed(
            f"required question {', '.join(missing)} not answered",
            code="missing_answer",
            details={"question_ids": missing},
        )
    return tuple(Answer(q.id, q.type, values[q.id]) for q in questions if q.id in values)


def _skipped(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def answer_problem(question: Question, value: Any) -> str | None:
    """What is wrong with `value` as an answer to `question`, or None when it fits."""
    if question.type in NUMERIC_RANGES:
        low, high = NUMERIC_RANGES[question.type]
        # bool is an int in Python but `true` is not a score.
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer from {low} to {high}"
        if not low <= value <= high:
            return f"must be from {low} to {high}, not {value}"
        return None
    if question.type == "text":
        if not isinstance(value, str):
            return "must be a string"
        if len(value) > MAX_TEXT_ANSWER_CHARS:
            return f"must have at most {MAX_TEXT_ANSWER_CHARS} characters"
        return text_problem(value)
    options = question.options or ()
    if question.type == "single_choice":
        if not isinstance(value, str):
            return "must be one of the options, as a string"
        return None if value in options else f"{value!r} is not one of the options"
    return _multiple_problem(question, options, value)


def _multiple_problem(question: Question, options: Sequence[str], value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return "must be a list of options (strings)"
    if not value:
        return "must select at least one option (omit the answer to skip the question)"
    if len(set(value)) != len(value):
        return "must not select an option twice"
    strangers = [item for item in value if item not in options]
    if strangers:
        return f"{', '.join(map(repr, strangers))} not among the options"
    if question.max_selections is not None and len(value) > question.max_selections:
        return f"must select at most {question.max_selections} options"
    return None
