"""Schema building blocks shared by the event type definitions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from plaudit.domain.event_catalog import SCHEMA_DIALECT, EventType, schema_id

Schema = dict[str, Any]

DECIMAL_PATTERN: Final = r"^-?[0-9]+(\.[0-9]+)?$"


def id_of(prefix: str) -> Schema:
    return {"type": "string", "pattern": f"^{prefix}_[0-9A-Za-z]+$"}


def string(*, min_length: int = 1, max_length: int | None = None) -> Schema:
    out: Schema = {"type": "string", "minLength": min_length}
    if max_length is not None:
        out["maxLength"] = max_length
    return out


def integer(*, minimum: int | None = None) -> Schema:
    out: Schema = {"type": "integer"}
    if minimum is not None:
        out["minimum"] = minimum
    return out


def number(*, minimum: float | None = None, maximum: float | None = None) -> Schema:
    out: Schema = {"type": "number"}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def const(value: str) -> Schema:
    return {"type": "string", "const": value}


def array(items: Schema, *, min_items: int = 0) -> Schema:
    out: Schema = {"type": "array", "items": items}
    if min_items:
        out["minItems"] = min_items
    return out


def ref(name: str) -> Schema:
    if name not in DEFS:
        raise KeyError(f"no shared definition {name!r}")
    return {"$ref": f"#/$defs/{name}"}


def nullable(schema: Schema) -> Schema:
    # A plain `type` widens cleanly; refs and enums need a branch of their own.
    if "$ref" in schema or "enum" in schema or "const" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    raise ValueError(f"cannot make {schema!r} nullable")


def obj(properties: Mapping[str, Schema], *, optional: Sequence[str] = ()) -> Schema:
    # Everything is required unless listed; absent-vs-null is left to nullable().
    unknown = set(optional) - set(properties)
    if unknown:
        raise ValueError(f"optional names unknown properties: {sorted(unknown)}")
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [name for name in properties if name not in optional],
        "properties": dict(properties),
    }


DATE: Final[Schema] = {"type": "string", "format": "date"}
DATE_TIME: Final[Schema] = {"type": "string", "format": "date-time"}
DECIMAL: Final[Schema] = {"type": "string", "pattern": DECIMAL_PATTERN}
RATIO: Final[Schema] = number(minimum=0)

# Shared `$defs`; each event schema embeds only those it references.
DEFS: Final[Mapping[str, Schema]] = {
    "employee_ref": {
        "description": "An employee, as known to Plaudit and to the customer's HRIS.",
        **obj(
            {
                "id": id_of("usr"),
                "external_id": nullable(string()),
                "email": nullable({"type": "string", "format": "email"}),
                "name": string(),
            }
        ),
    },
    "money": {
        "description": "An amount as a decimal string, never a float, with its ISO 4217 currency.",
        **obj({"amount": DECIMAL, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}),
    },
    "campaign_ref": {
        "description": "An incentive campaign.",
        **obj({"id": id_of("cmp"), "name": string()}),
    },
}


def _refs_in(node: object) -> Iterator[str]:
    if isinstance(node, Mapping):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith("#/$defs/"):
            yield target.removeprefix("#/$defs/")
        for value in node.values():
            yield from _refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs_in(value)


def _used_defs(node: object) -> dict[str, Schema]:
    # Follows refs transitively so a def may itself use another def.
    used: dict[str, Schema] = {}
    pending = list(_refs_in(node))
    while pending:
        name = pending.pop()
        if name not in used:
            used[name] = DEFS[name]
            pending.extend(_refs_in(DEFS[name]))
    return {name: used[name] for name in sorted(used)}


def define(
    name: str,
    *,
    description: str,
    properties: Mapping[str, Schema],
    example: Mapping[str, Any],
    rules: Sequence[Schema] = (),
    version: int = 1,
) -> EventType:
    """Build an event type; `rules` are extra subschemas (e.g. if/then) combined with allOf."""
    schema: Schema = {
        "$schema": SCHEMA_DIALECT,
        "$id": schema_id(name, version),
        "title": f"{name} data",
        "description": description,
        **obj(properties),
    }
    if rules:
        schema["allOf"] = list(rules)
    defs = _used_defs([properties, *rules])
    if defs:
        schema["$defs"] = defs
    return EventType(
        name=name,
        category=name.partition(".")[0],
        description=description,
        version=version,
        schema=schema,
        example=example,
    )


def when(field: str, value: str | bool, then: Mapping[str, Schema]) -> Schema:
    """Rule: if `field` equals `value`, the listed properties must match `then`."""
    return {
        "if": {"required": [field], "properties": {field: {"const": value}}},
        "then": {"properties": dict(then)},
    }


# Example people shared by the examples, so they tell one consistent story.
EXAMPLE_ALICE: Final[Mapping[str, Any]] = {
    "id": "usr_01KA0V6GE084TQ2SGV331VTQHR",
    "external_id": "E-10442",
    "email": "alice.moreau@example.com",
    "name": "Alice Moreau",
}
EXAMPLE_BOB: Final[Mapping[str, Any]] = {
    "id": "usr_01KA1K7XVSF37ZZH7E6KBMGKG8",
    "external_id": "E-10587",
    "email": "bob.okafor@example.com",
    "name": "Bob Okafor",
}
EXAMPLE_CARMEN: Final[Mapping[str, Any]] = {
    "id": "usr_01KA2B9B9JAP8NG8M35ZJVZ0AX",
    "external_id": None,
    "email": "carmen.liu@example.com",
    "name": "Carmen Liu",
}
EXAMPLE_DEV: Final[Mapping[str, Any]] = {
    "id": "usr_01KA33ARQBCQ14FDCQHQSTTN1Y",
    "external_id": "E-11020",
    "email": "dev.patel@example.com",
    "name": "Dev Patel",
}
EXAMPLE_CAMPAIGN: Final[Mapping[str, Any]] = {
    "id": "cmp_01KAFW2X1M0WBTXCVS9G5QNHJT",
    "name": "Q4 Customer Success Sprint",
}
