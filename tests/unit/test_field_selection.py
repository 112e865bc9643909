"""Field selection over event payloads: include/exclude dotted paths."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from plaudit.transform import FieldSelection

EVENT: dict[str, Any] = {
    "type": "recognition.created",
    "timestamp": "2025-03-31T12:00:00Z",
    "data": {
        "id": "rec_1",
        "message": "Thanks for the launch!",
        "giver": {"id": "emp_1", "email": "giver@example.com", "name": "Gia"},
        "receivers": [
            {"id": "emp_2", "email": "r1@example.com", "name": "Ray"},
            {"id": "emp_3", "name": "No Email"},
        ],
        "points": 50,
        "tags": ["launch", "teamwork"],
    },
}


def test_include_keeps_only_listed_paths_and_their_ancestors() -> None:
    selection = FieldSelection(include=("type", "data.giver.email", "data.points"))
    assert selection.apply(EVENT) == {
        "type": "recognition.created",
        "data": {"giver": {"email": "giver@example.com"}, "points": 50},
    }


def test_include_applies_to_every_array_element() -> None:
    selection = FieldSelection(include=("data.receivers.email",))
    assert selection.apply(EVENT) == {
        "data": {"receivers": [{"email": "r1@example.com"}, {}]},
    }


def test_include_of_an_object_or_array_keeps_it_whole() -> None:
    selection = FieldSelection(include=("data.giver", "data.tags"))
    assert selection.apply(EVENT) == {
        "data": {"giver": EVENT["data"]["giver"], "tags": ["launch", "teamwork"]},
    }


def test_include_shorter_path_covers_longer_one_in_any_order() -> None:
    expected = {"data": {"giver": EVENT["data"]["giver"]}}
    assert FieldSelection(include=("data.giver.email", "data.giver")).apply(EVENT) == expected
    assert FieldSelection(include=("data.giver", "data.giver.email")).apply(EVENT) == expected


def test_include_nested_arrays_and_scalar_elements() -> None:
    document = {"rows": [[{"a": 1, "b": 2}], [{"a": 3}, "scalar"], "scalar"]}
    assert FieldSelection(include=("rows.a",)).apply(document) == {"rows": [[{"a": 1}], [{"a": 3}]]}


def test_include_missing_paths_are_ignored() -> None:
    selection = FieldSelection(include=("type", "data.nothing.here", "nowhere", "type.deeper"))
    assert selection.apply(EVENT) == {"type": "recognition.created", "data": {}}
    assert FieldSelection(include=("data.giver.email",)).apply({"type": "x"}) == {}


def test_exclude_deletes_listed_paths() -> None:
    selection = FieldSelection(exclude=("timestamp", "data.giver.email", "data.receivers.email"))
    result = selection.apply(EVENT)
    expected = copy.deepcopy(EVENT)
    del expected["timestamp"]
    del expected["data"]["giver"]["email"]
    del expected["data"]["receivers"][0]["email"]
    assert result == expected


def test_exclude_whole_subtree_and_missing_paths() -> None:
    selection = FieldSelection(exclude=("data", "missing", "type.deeper", "data.giver.x"))
    assert selection.apply(EVENT) == {
        "type": "recognition.created",
        "timestamp": "2025-03-31T12:00:00Z",
    }


def test_exclude_in_nested_arrays() -> None:
    document = {"rows": [[{"a": 1, "b": 2}], [{"a": 3}, "scalar"], "scalar"]}
    assert FieldSelection(exclude=("rows.a",)).apply(document) == {
        "rows": [[{"b": 2}], [{}, "scalar"], "scalar"]
    }


@pytest.mark.parametrize(
    "selection",
    [
        FieldSelection(include=("data.giver", "data.receivers.email", "type")),
        FieldSelection(exclude=("data.giver.email", "data.receivers.name", "timestamp")),
    ],
)
def test_never_mutates_input_and_shares_no_containers(selection: FieldSelection) -> None:
    document = copy.deepcopy(EVENT)
    result = selection.apply(document)
    assert document == EVENT
    result["data"]["giver"]["mutated"] = True
    result["data"]["receivers"].append({"mutated": True})
    if "tags" in result["data"]:
        result["data"]["tags"].append("mutated")
    assert document == EVENT


def test_lists_are_normalised_to_tuples_and_selection_is_hashable() -> None:
    selection = FieldSelection(include=["type", "data.id"])  # type: ignore[arg-type]
    assert selection.include == ("type", "data.id")
    assert hash(selection) == hash(FieldSelection(include=("type", "data.id")))
    assert selection.apply(EVENT) == {"type": "recognition.created", "data": {"id": "rec_1"}}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"include": ("type",), "exclude": ("data",)}, "exactly one"),
        ({"include": ("",)}, "must not be empty"),
        ({"include": ("data..email",)}, "empty segment"),
        ({"include": (".data",)}, "empty segment"),
        ({"exclude": ("data.",)}, "empty segment"),
        ({"include": ("data.giver email",)}, "whitespace"),
        ({"include": ("data.receivers[0].email",)}, "may not contain"),
        ({"exclude": ("data.*.email",)}, "may not contain"),
        ({"include": "data.giver"}, "not a single string"),
        ({"include": (42,)}, "must be a string"),
        ({"include": tuple(f"k{i}" for i in range(300))}, "at most"),
        ({"include": (".".join(["a"] * 40),)}, "segments"),
    ],
)
def test_invalid_paths_are_rejected_with_a_clear_message(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        FieldSelection(**kwargs)


def test_apply_requires_a_mapping() -> None:
    with pytest.raises(TypeError):
        FieldSelection(include=("type",)).apply(["not", "a", "mapping"])  # type: ignore[arg-type]
