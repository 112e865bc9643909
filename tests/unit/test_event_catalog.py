from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator

from plaudit.domain import event_catalog
from plaudit.domain.event_catalog import (
    EventCatalog,
    EventDataInvalid,
    EventType,
    SchemaViolation,
    UnknownEventType,
    default_catalog,
)
from plaudit.domain.event_types import ALL_EVENT_TYPES

EXPECTED_NAMES = (
    "recognition.awarded",
    "badge.given",
    "shoutout.posted",
    "points.earned",
    "reward.redeemed",
    "voucher.issued",
    "survey.published",
    "survey.response_submitted",
    "survey.completed",
    "milestone.work_anniversary",
    "milestone.birthday",
    "milestone.onboarding",
    "incentive.payout_processed",
    "program.milestone_reached",
    "leaderboard.updated",
    "employee.activated",
    "employee.deactivated",
)


def example(name: str) -> dict[str, Any]:
    return copy.deepcopy(dict(default_catalog().get(name).example))


def violations(name: str, data: object) -> list[tuple[str, str]]:
    with pytest.raises(EventDataInvalid) as info:
        default_catalog().validate(name, data)
    assert info.value.event_type == name
    return [(v.path, v.message) for v in info.value.violations]


def paths(name: str, data: object) -> list[str]:
    return [path for path, _ in violations(name, data)]


def make_type(name: str, /, **overrides: Any) -> EventType:
    fields: dict[str, Any] = {
        "name": name,
        "category": name.partition(".")[0],
        "description": "Raised in tests.",
        "version": 1,
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:plaudit:event:{name}:v1",
            "title": f"{name} data",
            "type": "object",
            "additionalProperties": False,
            "required": ["n"],
            "properties": {"n": {"type": "integer"}},
        },
        "example": {"n": 1},
    }
    fields.update(overrides)
    return EventType(**fields)


# --- the catalog itself ---------------------------------------------------------------


def test_catalog_has_exactly_the_17_names_in_order() -> None:
    catalog = default_catalog()
    assert catalog.names() == EXPECTED_NAMES
    assert len(catalog) == 17
    assert [t.name for t in catalog] == list(EXPECTED_NAMES)
    assert tuple(t.name for t in ALL_EVENT_TYPES) == EXPECTED_NAMES


def test_default_catalog_is_cached() -> None:
    assert default_catalog() is default_catalog()


def test_contains_and_get() -> None:
    catalog = default_catalog()
    assert "voucher.issued" in catalog
    assert "voucher.revoked" not in catalog
    assert 42 not in catalog
    assert ["voucher.issued"] not in catalog
    event_type = catalog.get("milestone.birthday")
    assert event_type.name == "milestone.birthday"
    assert event_type.category == "milestone"


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_schema_is_valid_2020_12_with_right_id_and_version(name: str) -> None:
    event_type = default_catalog().get(name)
    Draft202012Validator.check_schema(event_type.schema)
    assert event_type.version == 1
    assert event_type.category == name.split(".")[0]
    assert event_type.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert event_type.schema["$id"] == f"urn:plaudit:event:{name}:v1"
    assert event_type.schema["type"] == "object"
    assert event_type.schema["additionalProperties"] is False
    assert event_type.schema["title"]
    assert event_type.description.endswith(".")


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_example_validates(name: str) -> None:
    event_type = default_catalog().get(name)
    default_catalog().validate(name, event_type.example)
    # And with a plain validator, independent of the catalog's own plumbing.
    Draft202012Validator(event_type.schema).validate(event_type.example)


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_every_property_is_required(name: str) -> None:
    schema = default_catalog().get(name).schema
    assert sorted(schema["required"]) == sorted(schema["properties"])


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_to_json_round_trips_through_json(name: str) -> None:
    event_type = default_catalog().get(name)
    as_json = event_type.to_json()
    assert set(as_json) == {"name", "category", "description", "version", "schema", "example"}
    assert json.loads(json.dumps(as_json)) == as_json
    assert as_json["schema"] == event_type.schema
    assert as_json["example"] == event_type.example


def test_to_json_returns_a_copy() -> None:
    event_type = default_catalog().get("recognition.awarded")
    as_json = event_type.to_json()
    as_json["schema"]["properties"].clear()
    as_json["example"]["receivers"].clear()
    assert "giver" in event_type.schema["properties"]
    assert len(event_type.example["receivers"]) == 2


def test_birthday_carries_no_age() -> None:
    schema = default_catalog().get("milestone.birthday").schema
    assert set(schema["properties"]) == {"employee", "occurred_on"}


# --- validation paths -------------------------------------------------------------


def test_missing_nested_field_names_the_field() -> None:
    data = example("recognition.awarded")
    del data["receivers"][0]["email"]
    assert violations("recognition.awarded", data) == [
        ("data.receivers[0].email", "'email' is a required property")
    ]


def test_missing_top_level_field() -> None:
    data = example("points.earned")
    del data["points"]
    assert violations("points.earned", data) == [("data.points", "'points' is a required property")]


def test_wrong_type() -> None:
    data = example("points.earned")
    data["points"] = "50"
    assert violations("points.earned", data) == [("data.points", "'50' is not of type 'integer'")]


def test_minimum() -> None:
    data = example("points.earned")
    data["points"] = -3
    assert violations("points.earned", data) == [
        ("data.points", "-3 is less than the minimum of 1")
    ]


def test_extra_property_names_the_key() -> None:
    data = example("badge.given")
    data["giver"]["department"] = "Sales"
    data["receiver"]["age"] = 41
    assert violations("badge.given", data) == [
        ("data.giver.department", "unexpected property 'department'"),
        ("data.receiver.age", "unexpected property 'age'"),
    ]


def test_extra_top_level_properties_each_get_a_violation() -> None:
    data = example("milestone.birthday")
    data["age"] = 41
    data["birth_year"] = 1984
    assert paths("milestone.birthday", data) == ["data.age", "data.birth_year"]


def test_odd_keys_are_quoted_in_paths() -> None:
    data = example("milestone.birthday")
    data["first name"] = "Bob"
    assert paths("milestone.birthday", data) == ['data["first name"]']


def test_non_string_keys_do_not_break_reporting() -> None:
    data: dict[Any, Any] = example("milestone.birthday")
    data[7] = "x"
    data["zeta"] = 1
    assert paths("milestone.birthday", data) == ['data["7"]', "data.zeta"]


def test_non_object_data() -> None:
    assert violations("employee.activated", ["x"]) == [("data", "['x'] is not of type 'object'")]
    assert violations("employee.activated", None) == [("data", "None is not of type 'object'")]


def test_empty_data_reports_every_missing_field_sorted() -> None:
    assert paths("employee.activated", {}) == [
        "data.changed_at",
        "data.employee",
        "data.reason",
        "data.status",
    ]


def test_all_violations_are_reported_sorted_by_path() -> None:
    data = example("recognition.awarded")
    data["total_points"] = -1
    data["receivers"][1]["id"] = "emp_123"
    data["receivers"][0]["email"] = "not-an-email"
    data["giver"]["name"] = ""
    data["badge"] = {"id": "bdg_1"}
    data["created_at"] = "2025-13-01T00:00:00Z"
    assert violations("recognition.awarded", data) == [
        ("data.badge.name", "'name' is a required property"),
        ("data.created_at", "'2025-13-01T00:00:00Z' is not a 'date-time'"),
        ("data.giver.name", "'' should be non-empty"),
        ("data.receivers[0].email", "'not-an-email' is not a 'email'"),
        ("data.receivers[1].id", "'emp_123' does not match '^usr_[0-9A-Za-z]+$'"),
        ("data.total_points", "-1 is less than the minimum of 0"),
    ]


def test_array_indexes_sort_numerically() -> None:
    data = example("leaderboard.updated")
    top = data["top"][0]
    data["top"] = [{**copy.deepcopy(top), "rank": i + 1} for i in range(12)]
    data["top"][2]["value"] = "1,5"
    data["top"][10]["value"] = "abc"
    assert paths("leaderboard.updated", data) == ["data.top[2].value", "data.top[10].value"]


def test_error_str_names_first_path_and_count() -> None:
    data = example("milestone.onboarding")
    del data["hire_date"]
    data["days_since_hire"] = 0
    with pytest.raises(EventDataInvalid) as info:
        default_catalog().validate("milestone.onboarding", data)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.violations == (
        SchemaViolation("data.days_since_hire", "0 is less than the minimum of 1"),
        SchemaViolation("data.hire_date", "'hire_date' is a required property"),
    )
    assert str(error) == (
        "invalid data for event type 'milestone.onboarding': "
        "data.days_since_hire: 0 is less than the minimum of 1 (and 1 more)"
    )


def test_error_pickles() -> None:
    error = EventDataInvalid("badge.given", [SchemaViolation("data", "boom")])
    clone = pickle.loads(pickle.dumps(error))
    assert clone.event_type == "badge.given"
    assert clone.violations == error.violations


def test_long_instances_are_abbreviated_in_messages() -> None:
    data = example("survey.response_submitted")
    data["anonymous"] = True  # so respondent must be null
    assert violations("survey.response_submitted", data) == [
        ("data.respondent", "an object is not of type 'null'")
    ]


# --- formats and type-specific rules ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2025-11-18T14:02:37Z", True),
        ("2025-11-18T14:02:37.123456+02:00", True),
        ("2025-11-18t14:02:37z", True),
        ("2025-11-18T14:02:37", False),  # RFC 3339 requires an offset
        ("2025-11-18 14:02:37Z", False),
        ("2025-02-30T00:00:00Z", False),
        ("2025-11-18T24:00:00Z", False),
        ("2025-11-18T10:00:00+25:00", False),
        ("yesterday", False),
    ],
)
def test_date_time_format_is_checked(value: str, ok: bool) -> None:
    data = example("employee.deactivated")
    data["changed_at"] = value
    if ok:
        default_catalog().validate("employee.deactivated", data)
    else:
        assert paths("employee.deactivated", data) == ["data.changed_at"]


def test_date_format_is_checked() -> None:
    data = example("milestone.work_anniversary")
    data["hire_date"] = "2020-02-30"
    data["occurred_on"] = "2025-11-23T00:00:00Z"
    assert paths("milestone.work_anniversary", data) == ["data.hire_date", "data.occurred_on"]


def test_money_amount_is_a_decimal_string() -> None:
    data = example("voucher.issued")
    data["value"] = {"amount": 25.0, "currency": "eur"}
    assert violations("voucher.issued", data) == [
        ("data.value.amount", "25.0 is not of type 'string'"),
        ("data.value.currency", "'eur' does not match '^[A-Z]{3}$'"),
    ]


def test_nullable_fields_accept_null() -> None:
    data = example("recognition.awarded")
    data["badge"] = None
    data["company_value"] = None
    data["giver"]["external_id"] = None
    data["giver"]["email"] = None
    default_catalog().validate("recognition.awarded", data)


def test_required_but_nullable_field_cannot_be_absent() -> None:
    data = example("recognition.awarded")
    del data["badge"]
    assert paths("recognition.awarded", data) == ["data.badge"]


def test_receivers_must_not_be_empty() -> None:
    data = example("recognition.awarded")
    data["receivers"] = []
    assert violations("recognition.awarded", data) == [("data.receivers", "[] should be non-empty")]


def test_anonymous_response_may_not_name_respondent_and_vice_versa() -> None:
    data = example("survey.response_submitted")
    data["anonymous"] = True
    data["respondent"] = None
    default_catalog().validate("survey.response_submitted", data)
    data["anonymous"] = False
    assert violations("survey.response_submitted", data) == [
        ("data.respondent", "None is not of type 'object'")
    ]


def test_answer_value_shape_follows_question_type() -> None:
    data = example("survey.response_submitted")
    data["answers"][0]["value"] = 11  # nps is 0..10
    data["answers"][2]["value"] = "Flexible hours"  # multiple_choice needs a list
    data["answers"][3]["type"] = "essay"
    assert paths("survey.response_submitted", data) == [
        "data.answers[0].value",
        "data.answers[2].value",
        "data.answers[3].type",
    ]


def test_payout_amount_and_points_follow_reward_type() -> None:
    data = example("incentive.payout_processed")
    data["reward_type"] = "points"
    assert paths("incentive.payout_processed", data) == ["data.amount", "data.points"]
    data["points"] = 1200
    data["amount"] = None
    default_catalog().validate("incentive.payout_processed", data)


def test_employee_status_is_fixed_per_type() -> None:
    data = example("employee.activated")
    data["status"] = "inactive"
    assert violations("employee.activated", data) == [("data.status", "'active' was expected")]


def test_enum_violation() -> None:
    data = example("survey.completed")
    data["reason"] = "cancelled"
    data["response_rate"] = 1.2
    assert paths("survey.completed", data) == ["data.reason", "data.response_rate"]


# --- errors and construction ---------------------------------------------------------


def test_unknown_type_raises_unknown_event_type() -> None:
    catalog = default_catalog()
    with pytest.raises(UnknownEventType) as info:
        catalog.validate("recognition.revoked", {})
    assert info.value.event_type == "recognition.revoked"
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "unknown event type 'recognition.revoked'"
    with pytest.raises(UnknownEventType):
        catalog.get("nope")


def test_duplicate_names_rejected() -> None:
    first = make_type("test.happened")
    second = make_type("test.happened", description="Another one.")
    with pytest.raises(ValueError, match=r"duplicate event type 'test\.happened'"):
        EventCatalog([first, second])


def test_custom_catalog() -> None:
    catalog = EventCatalog([make_type("test.happened"), make_type("test.other")])
    assert catalog.names() == ("test.happened", "test.other")
    catalog.validate("test.happened", {"n": 3})
    with pytest.raises(EventDataInvalid):
        catalog.validate("test.happened", {"n": "3"})


def test_catalog_rejects_an_example_that_does_not_validate() -> None:
    with pytest.raises(ValueError, match=r"example of 'test\.happened' does not validate"):
        EventCatalog([make_type("test.happened", example={"n": "one"})])


def test_catalog_rejects_an_invalid_schema() -> None:
    schema = dict(make_type("test.happened").schema)
    schema["required"] = "n"
    with pytest.raises(ValueError, match=r"schema of 'test\.happened' is invalid"):
        EventCatalog([make_type("test.happened", schema=schema)])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Test.Happened"}, "is not '<category>.<action>'"),
        ({"category": "other"}, "must have category 'test'"),
        ({"version": 0}, "has version 0"),
        ({"version": 2}, "'\\$id' = 'urn:plaudit:event:test.happened:v2'"),
    ],
)
def test_event_type_checks_its_own_consistency(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_type("test.happened", **overrides)


def test_event_types_are_hashable() -> None:
    assert len(set(ALL_EVENT_TYPES)) == 17


# The fast validator may refuse what the reference accepts (the reference then decides),
# but it must never accept what the reference refuses: that would let bad payloads out.
_TRICKY_VALUES: list[object] = [
    None, "", " ", "x", 0, -1, 1, 1.5, 1.0, True, False, [], {}, ["a"], {"a": 1},
    2**70, -(2**70), "2025-02-29", "2024-02-29", "2025-1-01", "2025-11-18T24:00:00Z",
    "2025-11-18T23:59:60Z", "2025-11-18t10:00:00z", "2025-11-18T10:00:00+25:00",
    "2025-11-18T10:00:00.123456789-05:30", "2025-11-18 10:00:00Z", "a@b", "not-an-email",
    "usr_", "usr_01KA0V6GE084TQ2SGV331VTQHR", "evt_01KA0V6GE084TQ2SGV331VTQHR", "EUR",
    "eur", "12.50", "-0.5", "1e3", ".5", "\u00e9t\u00e9", "\U0001f600",
]  # fmt: skip


def _mutations(node: object) -> list[object]:
    """Copies of `node` with one leaf replaced, one key removed or one key added."""
    out: list[object] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend({**node, key: variant} for variant in _mutations(value))
            out.append({k: v for k, v in node.items() if k != key})
        out.append({**node, "unexpected": 1})
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend([*node[:index], v, *node[index + 1 :]] for v in _mutations(value))
        out.append([])
    else:
        out.extend(_TRICKY_VALUES)
    return out


@pytest.mark.parametrize("event_type", ALL_EVENT_TYPES, ids=lambda t: t.name)
def test_fast_validator_never_accepts_what_the_reference_refuses(event_type: EventType) -> None:
    reference = Draft202012Validator(
        event_type.schema, format_checker=event_catalog._format_checker()
    )
    fast = jsonschema_rs.validator_for(dict(event_type.schema), validate_formats=True)
    candidates = _mutations(dict(event_type.example))
    assert len(candidates) > 50
    for candidate in candidates:
        if fast.is_valid(candidate):
            assert reference.is_valid(candidate), candidate
