"""The catalog of webhook event types and validation of their `data` payloads."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError, best_match

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

_NAME_RE: Final = re.compile(r"^([a-z][a-z0-9]*)\.([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)$")
_IDENTIFIER_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATE_TIME_RE: Final = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$"
)

_MAX_SHOWN: Final = 60

# A path component as a sortable key: indexes order numerically, keys lexically.
_PathKey = tuple[tuple[int, int | str], ...]


def schema_id(name: str, version: int) -> str:
    return f"urn:plaudit:event:{name}:v{version}"


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    path: str
    message: str


class EventDataInvalid(ValueError):
    def __init__(self, event_type: str, violations: Sequence[SchemaViolation]) -> None:
        if not violations:
            raise ValueError("EventDataInvalid needs at least one violation")
        self.event_type = event_type
        self.violations: tuple[SchemaViolation, ...] = tuple(violations)
        first = self.violations[0]
        more = len(self.violations) - 1
        suffix = f" (and {more} more)" if more else ""
        super().__init__(
            f"invalid data for event type {event_type!r}: {first.path}: {first.message}{suffix}"
        )

    def __reduce__(self) -> tuple[type[EventDataInvalid], tuple[str, tuple[SchemaViolation, ...]]]:
        return (type(self), (self.event_type, self.violations))


class UnknownEventType(KeyError):
    def __init__(self, event_type: str) -> None:
        super().__init__(event_type)
        self.event_type = event_type

    def __str__(self) -> str:
        return f"unknown event type {self.event_type!r}"


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    category: str
    description: str
    version: int
    # Excluded from hashing: they are dicts; the name and version identify a type.
    schema: Mapping[str, Any] = field(hash=False)
    example: Mapping[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        match = _NAME_RE.match(self.name)
        if match is None:
            raise ValueError(f"event type name {self.name!r} is not '<category>.<action>'")
        if self.category != match.group(1):
            raise ValueError(f"event type {self.name!r} must have category {match.group(1)!r}")
        if self.version < 1:
            raise ValueError(f"event type {self.name!r} has version {self.version} < 1")
        expected = {
            "$schema": SCHEMA_DIALECT,
            "$id": schema_id(self.name, self.version),
            "type": "object",
        }
        for key, value in expected.items():
            if self.schema.get(key) != value:
                raise ValueError(f"schema of {self.name!r} must have {key!r} = {value!r}")
        if not self.schema.get("title"):
            raise ValueError(f"schema of {self.name!r} needs a title")

    def to_json(self) -> dict[str, Any]:
        # Deep copies so callers can never mutate the catalog through the result.
        return {
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "version": self.version,
            "schema": copy.deepcopy(dict(self.schema)),
            "example": copy.deepcopy(dict(self.example)),
        }


def _is_rfc3339_date_time(instance: object) -> bool:
    # jsonschema only checks "date-time" when the optional rfc3339-validator is installed;
    # the catalog must not depend on that, so it brings its own checker.
    if not isinstance(instance, str):
        return True
    match = _DATE_TIME_RE.match(instance)
    if match is None:
        return False
    year, month, day, hour, minute, second, off_h, off_m = match.groups()
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    if int(hour) > 23 or int(minute) > 59 or int(second) > 60:  # 60: leap second
        return False
    return off_h is None or (int(off_h) <= 23 and int(off_m) <= 59)


def _format_checker() -> FormatChecker:
    checker = FormatChecker()  # a per-instance copy of the registered formats
    checker.checks("date-time")(_is_rfc3339_date_time)
    return checker


def _path_key(parts: Iterable[str | int]) -> _PathKey:
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in parts)


def _format_path(key: _PathKey) -> str:
    out = ["data"]
    for kind, part in key:
        if kind == 0:
            out.append(f"[{part}]")
        elif isinstance(part, str) and _IDENTIFIER_RE.match(part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part)}]")
    return "".join(out)


def _unexpected_keys(error: ValidationError, instance: Mapping[Any, Any]) -> list[str]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    declared = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    # str(): Python callers may pass non-string keys, which JSON would stringify anyway.
    return sorted(
        str(key)
        for key in instance
        if key not in declared and not any(p.search(str(key)) for p in patterns)
    )


def _compact_message(error: ValidationError) -> str:
    # jsonschema messages start with the instance's repr; a whole employee object there
    # is unreadable and copies personal data into logs, so long ones are abbreviated.
    instance, message = error.instance, error.message
    shown = repr(instance)
    if len(shown) <= _MAX_SHOWN or not message.startswith(shown):
        return message
    if isinstance(instance, Mapping):
        short = "an object"
    elif isinstance(instance, list):
        short = f"an array of {len(instance)} items"
    elif isinstance(instance, str):
        short = repr(instance[: _MAX_SHOWN // 2]) + "..."
    else:
        return message
    return short + message[len(shown) :]


def _violations(error: ValidationError) -> Iterator[tuple[_PathKey, SchemaViolation]]:
    # best_match descends into anyOf/oneOf to the branch that best fits the instance.
    leaf = best_match([error]) or error
    base = list(leaf.absolute_path)
    instance, expected = leaf.instance, leaf.validator_value
    if (
        leaf.validator == "required"
        and isinstance(instance, Mapping)
        and isinstance(expected, list)
    ):
        for name in sorted(set(expected) - set(instance)):
            key = _path_key([*base, name])
            yield key, SchemaViolation(_format_path(key), f"{name!r} is a required property")
        return
    if (
        leaf.validator == "additionalProperties"
        and expected is False
        and isinstance(instance, Mapping)
    ):
        for name in _unexpected_keys(leaf, instance):
            key = _path_key([*base, name])
            yield key, SchemaViolation(_format_path(key), f"unexpected property {name!r}")
        return
    key = _path_key(base)
    yield key, SchemaViolation(_format_path(key), _compact_message(leaf))


class EventCatalog:
    """Event types by name, each with its schema validators.

    Two validators per type: jsonschema_rs answers "valid?" in microseconds (every event
    is checked on its hot path), and only a payload it refuses goes to the reference
    `jsonschema` validator, which has the last word and explains each violation by path.
    """

    __slots__ = ("_fast", "_types", "_validators")

    def __init__(self, types: Iterable[EventType]) -> None:
        self._types: dict[str, EventType] = {}
        for event_type in types:
            if event_type.name in self._types:
                raise ValueError(f"duplicate event type {event_type.name!r}")
            self._types[event_type.name] = event_type
        checker = _format_checker()
        self._validators: dict[str, Draft202012Validator] = {}
        self._fast: dict[str, jsonschema_rs.Validator] = {}
        for name, event_type in self._types.items():
            try:
                Draft202012Validator.check_schema(event_type.schema)
            except SchemaError as exc:
                raise ValueError(f"schema of {name!r} is invalid: {exc.message}") from exc
            self._validators[name] = Draft202012Validator(event_type.schema, format_checker=checker)
            self._fast[name] = jsonschema_rs.validator_for(
                dict(event_type.schema), validate_formats=True
            )
            # A catalog whose own examples fail would document payloads we never send.
            try:
                self.validate(name, event_type.example)
            except EventDataInvalid as exc:
                raise ValueError(f"example of {name!r} does not validate: {exc}") from exc

    def __len__(self) -> int:
        return len(self._types)

    def __iter__(self) -> Iterator[EventType]:
        return iter(self._types.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._types

    def __repr__(self) -> str:
        return f"EventCatalog({len(self._types)} types)"

    def get(self, name: str) -> EventType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEventType(name) from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._types)

    def validate(self, name: str, data: object) -> None:
        validator = self._validators.get(name)
        if validator is None:
            raise UnknownEventType(name)
        try:
            if self._fast[name].is_valid(data):
                return
        except ValueError:
            pass  # not JSON-shaped (e.g. a non-string key): the reference explains why
        found: dict[tuple[_PathKey, str], SchemaViolation] = {}
        for error in validator.iter_errors(data):
            for key, violation in _violations(error):
                found.setdefault((key, violation.message), violation)
        if found:
            ordered = [found[k] for k in sorted(found)]
            raise EventDataInvalid(name, ordered)


@functools.cache
def default_catalog() -> EventCatalog:
    # Imported here: the definitions import EventType from this module.
    from plaudit.domain.event_types import ALL_EVENT_TYPES

    return EventCatalog(ALL_EVENT_TYPES)
