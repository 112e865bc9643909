from __future__ import annotations

from typing import Final

from plaudit.domain.event_catalog import EventType
from plaudit.domain.event_types.common import (
    DATE_TIME,
    EXAMPLE_CARMEN,
    Schema,
    array,
    define,
    enum,
    id_of,
    integer,
    nullable,
    number,
    obj,
    ref,
    string,
    when,
)

QUESTION_TYPES: Final = ("rating", "nps", "single_choice", "multiple_choice", "text")

_SURVEY_ID: Final = id_of("srv")
_QUESTION_ID: Final = id_of("q")

# The shape of an answer's value follows its question type.
_ANSWER: Final[Schema] = {
    **obj(
        {
            "question_id": _QUESTION_ID,
            "type": enum(*QUESTION_TYPES),
            "value": {"type": ["integer", "string", "array"], "items": {"type": "string"}},
        }
    ),
    "allOf": [
        when("type", "rating", {"value": integer(minimum=1)}),
        when("type", "nps", {"value": {"type": "integer", "minimum": 0, "maximum": 10}}),
        when("type", "single_choice", {"value": string()}),
        when("type", "multiple_choice", {"value": array(string())}),
        when("type", "text", {"value": {"type": "string"}}),
    ],
}

SURVEY_PUBLISHED: Final[EventType] = define(
    "survey.published",
    description="Raised when a survey is published and opens for responses.",
    properties={
        "survey_id": _SURVEY_ID,
        "title": string(),
        "questions_count": integer(minimum=1),
        "audience": obj({"employees": integer(minimum=0), "groups": array(id_of("grp"))}),
        "closes_at": nullable(DATE_TIME),
        "published_at": DATE_TIME,
    },
    example={
        "survey_id": "srv_01KAAKRZ158HHFQ094MARSZSJT",
        "title": "Q4 Pulse: how are we doing?",
        "questions_count": 4,
        "audience": {
            "employees": 240,
            "groups": ["grp_01KAJ475AZ6HETFT0QSJEY04AS", "grp_01KAJW8JRRAGFV40GGGW1ZVCXX"],
        },
        "closes_at": "2025-12-05T17:00:00Z",
        "published_at": "2025-11-21T09:00:00Z",
    },
)

SURVEY_RESPONSE_SUBMITTED: Final[EventType] = define(
    "survey.response_submitted",
    description=(
        "Raised when an employee submits a response to a survey; "
        "anonymous responses carry no respondent."
    ),
    properties={
        "survey_id": _SURVEY_ID,
        "response_id": id_of("rsp"),
        "respondent": nullable(ref("employee_ref")),
        "anonymous": {"type": "boolean"},
        "answers": array(_ANSWER),
        "submitted_at": DATE_TIME,
    },
    # Anonymity is a promise: an anonymous response must never name its respondent.
    rules=[
        when("anonymous", True, {"respondent": {"type": "null"}}),
        when("anonymous", False, {"respondent": ref("employee_ref")}),
    ],
    example={
        "survey_id": "srv_01KAAKRZ158HHFQ094MARSZSJT",
        "response_id": "rsp_01KABBTCEYDQGR6GBP42TMD4K1",
        "respondent": EXAMPLE_CARMEN,
        "anonymous": False,
        "answers": [
            {"question_id": "q_01KACVX7AGCZ6HT5VZ4M5NSA2R", "type": "nps", "value": 9},
            {"question_id": "q_01KADKYMR9BMP2VFT70H833PGB", "type": "rating", "value": 4},
            {
                "question_id": "q_01KAEC0262E1MW6TC7ACSJTC30",
                "type": "multiple_choice",
                "value": ["Flexible hours", "Learning budget"],
            },
            {
                "question_id": "q_01KAF41FKV8GHS020JKGQ7PAE0",
                "type": "text",
                "value": "More cross-team demos, please.",
            },
        ],
        "submitted_at": "2025-11-24T11:12:45Z",
    },
)

SURVEY_COMPLETED: Final[EventType] = define(
    "survey.completed",
    description=(
        "Raised when a survey stops collecting responses, because it closed "
        "or because everyone in its audience responded."
    ),
    properties={
        "survey_id": _SURVEY_ID,
        "title": string(),
        "reason": enum("closed", "all_responded"),
        "targeted": integer(minimum=0),
        "responded": integer(minimum=0),
        "response_rate": number(minimum=0, maximum=1),
        "questions": array(
            obj(
                {
                    "question_id": _QUESTION_ID,
                    "type": enum(*QUESTION_TYPES),
                    # Mean of numeric answers; null for choice and text questions.
                    "average": nullable(number()),
                    "responses": integer(minimum=0),
                }
            )
        ),
        # Employee NPS; null when the survey has no NPS question.
        "enps": nullable(number(minimum=-100, maximum=100)),
        "completed_at": DATE_TIME,
    },
    example={
        "survey_id": "srv_01KAAKRZ158HHFQ094MARSZSJT",
        "title": "Q4 Pulse: how are we doing?",
        "reason": "closed",
        "targeted": 240,
        "responded": 186,
        "response_rate": 0.775,
        "questions": [
            {
                "question_id": "q_01KACVX7AGCZ6HT5VZ4M5NSA2R",
                "type": "nps",
                "average": 7.9,
                "responses": 186,
            },
            {
                "question_id": "q_01KADKYMR9BMP2VFT70H833PGB",
                "type": "rating",
                "average": 4.1,
                "responses": 183,
            },
            {
                "question_id": "q_01KAEC0262E1MW6TC7ACSJTC30",
                "type": "multiple_choice",
                "average": None,
                "responses": 171,
            },
            {
                "question_id": "q_01KAF41FKV8GHS020JKGQ7PAE0",
                "type": "text",
                "average": None,
                "responses": 94,
            },
        ],
        "enps": 32.8,
        "completed_at": "2025-12-05T17:00:00Z",
    },
)

SURVEY_EVENT_TYPES: Final[tuple[EventType, ...]] = (
    SURVEY_PUBLISHED,
    SURVEY_RESPONSE_SUBMITTED,
    SURVEY_COMPLETED,
)
