"""Survey rules: question definitions, answers per question type, and the aggregates."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from plaudit.domain.errors import ValidationFailed
from plaudit.domain.survey_results import enps, response_rate, summarize
from plaudit.domain.survey_rules import (
    Answer,
    Question,
    QuestionSpec,
    answer_problem,
    check_answers,
    define_questions,
)


def ids() -> Any:
    counter = itertools.count(1)
    return lambda: f"q_{next(counter)}"


RATING = Question("q_r", "rating", "How are you?", True, None, None)
NPS = Question("q_n", "nps", "Recommend us?", True, None, None)
SINGLE = Question("q_s", "single_choice", "Office?", False, ("Paris", "Lyon"), None)
MULTI = Question("q_m", "multiple_choice", "Perks?", False, ("Gym", "Food", "Books"), 2)
TEXT = Question("q_t", "text", "Anything else?", False, None, None)
ALL = (RATING, NPS, SINGLE, MULTI, TEXT)


def test_define_assigns_ids_and_normalizes() -> None:
    questions = define_questions(
        [
            QuestionSpec("rating", "  How are you?  "),
            QuestionSpec("multiple_choice", "Perks?", False, [" Gym", "Food "], 2),
        ],
        make_id=ids(),
    )
    assert [q.id for q in questions] == ["q_1", "q_2"]
    assert questions[0].prompt == "How are you?"
    assert questions[1].options == ("Gym", "Food")
    assert questions[1].to_json() == {
        "id": "q_2",
        "type": "multiple_choice",
        "prompt": "Perks?",
        "required": False,
        "options": ["Gym", "Food"],
        "max_selections": 2,
    }
    assert Question.from_json(questions[1].to_json()) == questions[1]


def test_default_ids_are_q_ids() -> None:
    (question,) = define_questions([QuestionSpec("nps", "Recommend us?")])
    assert question.id.startswith("q_")


def test_draft_questions_keep_known_ids_only() -> None:
    kept = define_questions(
        [QuestionSpec("text", "Why?", id="q_old"), QuestionSpec("text", "New?")],
        existing_ids=frozenset({"q_old"}),
        make_id=ids(),
    )
    assert [q.id for q in kept] == ["q_old", "q_1"]
    with pytest.raises(ValidationFailed) as refused:
        define_questions([QuestionSpec("text", "Why?", id="q_stranger")])
    assert refused.value.details["field"] == "questions[0].id"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (QuestionSpec("slider", "How?"), "questions[0].type"),
        (QuestionSpec("rating", "   "), "questions[0].prompt"),
        (QuestionSpec("rating", "Nul\x00"), "questions[0].prompt"),
        (QuestionSpec("rating", "How?", options=["a", "b"]), "questions[0].options"),
        (QuestionSpec("single_choice", "Pick"), "questions[0].options"),
        (QuestionSpec("single_choice", "Pick", options=["only"]), "questions[0].options"),
        (
            QuestionSpec("single_choice", "Pick", options=[f"o{i}" for i in range(51)]),
            "questions[0].options",
        ),
        (QuestionSpec("single_choice", "Pick", options=["a", " "]), "questions[0].options[1]"),
        (QuestionSpec("single_choice", "Pick", options=["a", "a "]), "questions[0].options"),
        (
            QuestionSpec("single_choice", "Pick", options=["a", "b"], max_selections=1),
            "questions[0].max_selections",
        ),
        (
            QuestionSpec("multiple_choice", "Pick", options=["a", "b"], max_selections=3),
            "questions[0].max_selections",
        ),
        (
            QuestionSpec("multiple_choice", "Pick", options=["a", "b"], max_selections=0),
            "questions[0].max_selections",
        ),
    ],
)
def test_bad_questions_name_the_field(spec: QuestionSpec, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        define_questions([spec])
    assert refused.value.code == "invalid_question"
    assert refused.value.details["field"] == field
    assert field in refused.value.message


def test_question_count_bounds() -> None:
    with pytest.raises(ValidationFailed):
        define_questions([])
    with pytest.raises(ValidationFailed):
        define_questions([QuestionSpec("text", "?")] * 101)


@pytest.mark.parametrize(
    ("question", "value"),
    [
        (RATING, 1),
        (RATING, 5),
        (NPS, 0),
        (NPS, 10),
        (SINGLE, "Lyon"),
        (MULTI, ["Gym"]),
        (MULTI, ["Books", "Gym"]),
        (TEXT, "x" * 5000),
    ],
)
def test_good_answers(question: Question, value: Any) -> None:
    assert answer_problem(question, value) is None


@pytest.mark.parametrize(
    ("question", "value"),
    [
        (RATING, 0),
        (RATING, 6),
        (RATING, True),  # bool is an int in Python, not a score
        (RATING, 4.0),
        (RATING, "4"),
        (NPS, -1),
        (NPS, 11),
        (NPS, False),
        (SINGLE, "Berlin"),
        (SINGLE, ["Paris"]),
        (SINGLE, 1),
        (MULTI, "Gym"),
        (MULTI, []),
        (MULTI, ["Gym", "Gym"]),
        (MULTI, ["Gym", "Spa"]),
        (MULTI, ["Gym", "Food", "Books"]),  # over max_selections
        (MULTI, ["Gym", 1]),
        (TEXT, 42),
        (TEXT, "x" * 5001),
        (TEXT, "nul\x00"),
        (TEXT, "\ud800"),
    ],
)
def test_bad_answers(question: Question, value: Any) -> None:
    assert answer_problem(question, value) is not None
    with pytest.raises(ValidationFailed) as refused:
        check_answers(ALL, _with(question.id, value))
    assert refused.value.code == "invalid_answer"
    assert refused.value.details["answers"][0]["question_id"] == question.id
    assert question.id in refused.value.message


def _with(question_id: str, value: Any) -> list[tuple[str, Any]]:
    answers: dict[str, Any] = {"q_r": 3, "q_n": 9}
    answers[question_id] = value
    return list(answers.items())


def test_check_answers_keeps_question_order_and_skips_blanks() -> None:
    kept = check_answers(
        ALL, [("q_t", "  fine  "), ("q_n", 9), ("q_s", None), ("q_r", 4), ("q_m", ["Gym"])]
    )
    assert [a.to_json() for a in kept] == [
        {"question_id": "q_r", "type": "rating", "value": 4},
        {"question_id": "q_n", "type": "nps", "value": 9},
        {"question_id": "q_m", "type": "multiple_choice", "value": ["Gym"]},
        {"question_id": "q_t", "type": "text", "value": "fine"},
    ]
    blank = check_answers(ALL, [("q_r", 4), ("q_n", 9), ("q_t", "   ")])
    assert [a.question_id for a in blank] == ["q_r", "q_n"]


def test_unknown_duplicate_and_missing_answers() -> None:
    with pytest.raises(ValidationFailed) as unknown:
        check_answers(ALL, [("q_r", 4), ("q_n", 9), ("q_x", 1), ("q_y", 2)])
    assert unknown.value.code == "unknown_question"
    assert unknown.value.details == {"question_ids": ["q_x", "q_y"]}
    with pytest.raises(ValidationFailed) as twice:
        check_answers(ALL, [("q_r", 4), ("q_r", 5), ("q_n", 9)])
    assert twice.value.code == "duplicate_answer"
    with pytest.raises(ValidationFailed) as missing:
        check_answers(ALL, [("q_r", None), ("q_t", "hi")])
    assert missing.value.code == "missing_answer"
    assert missing.value.details == {"question_ids": ["q_r", "q_n"]}


def test_enps_and_rates() -> None:
    assert enps([]) is None
    assert enps([10, 9, 8, 7]) == 50.0
    assert enps([0, 6, 9]) == -33.3
    assert enps([10, 10]) == 100.0
    assert enps([6] * 3) == -100.0
    assert enps([9, 7, 3]) == 0.0
    assert response_rate(0, 0) == 0.0
    assert response_rate(2, 3) == 0.6667
    assert response_rate(186, 240) == 0.775


def test_summarize() -> None:
    responses = [
        (
            Answer("q_r", "rating", 4),
            Answer("q_n", "nps", 10),
            Answer("q_m", "multiple_choice", ["Gym", "Food"]),
        ),
        (Answer("q_r", "rating", 5), Answer("q_n", "nps", 3), Answer("q_t", "text", "ok")),
        (
            Answer("q_r", "rating", 5),
            Answer("q_n", "nps", 8),
            Answer("q_s", "single_choice", "Paris"),
        ),
    ]
    results = summarize(ALL, responses, targeted=4)
    assert (results.targeted, results.responded, results.response_rate) == (4, 3, 0.75)
    assert results.enps == 0.0
    by_id = {q.question_id: q for q in results.questions}
    assert by_id["q_r"].average == 4.67
    assert by_id["q_r"].distribution == ((1, 0), (2, 0), (3, 0), (4, 1), (5, 2))
    assert by_id["q_n"].average == 7.0
    assert by_id["q_m"].distribution == (("Gym", 1), ("Food", 1), ("Books", 0))
    assert by_id["q_s"].distribution == (("Paris", 1), ("Lyon", 0))
    assert by_id["q_t"].to_json()["distribution"] is None
    assert by_id["q_t"].event_json() == {
        "question_id": "q_t",
        "type": "text",
        "average": None,
        "responses": 1,
    }
    empty = summarize((TEXT,), [], targeted=0)
    assert empty.enps is None
    assert empty.response_rate == 0.0
    assert empty.questions[0].responses == 0
