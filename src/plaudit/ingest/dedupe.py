"""Dedupe keys: which records count as "already received".

A key comes from a request header (e.g. `webhook-id`, `Idempotency-Key`), a path in the
record (`$.deal.id`), or a hash of the body. Header and body keys name the request, so each of
its records gets the key plus its position. Keys are claimed in `ingest_dedupe_keys` (a
primary key per source) by the record that loads, in the loading transaction: a second
claim (a retry, a concurrent duplicate) finds the key taken and the record is a duplicate.
A rejected record claims nothing, so a corrected resend still loads.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

MAX_KEY_CHARS = 250
_PATH_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\[\"([^\"]+)\"\]")


class NoDedupe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["none"]


class HeaderDedupe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["header"]
    header: str = Field(min_length=1, max_length=100)


class PathDedupe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["path"]
    path: str = Field(min_length=2, max_length=200, description='e.g. "$.id" or "$.deal.id"')

    @field_validator("path")
    @classmethod
    def _valid(cls, value: str) -> str:
        path_steps(value)
        return value


class BodyHashDedupe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["body_hash"]


Dedupe = Annotated[
    NoDedupe | HeaderDedupe | PathDedupe | BodyHashDedupe, Field(discriminator="type")
]
DEDUPE: TypeAdapter[Dedupe] = TypeAdapter(Dedupe)


def path_steps(path: str) -> list[str | int]:
    """`$.a.b[0]["c d"]` -> ["a", "b", 0, "c d"]; ValueError when malformed."""
    if not path.startswith("$"):
        raise ValueError('a path starts with "$", e.g. "$.id"')
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            raise ValueError(f"cannot read the path at character {position}")
        name, index, quoted = match.groups()
        steps.append(int(index) if index is not None else (name or quoted))
        position = match.end()
    if not steps:
        raise ValueError('the path names no field, e.g. "$.id"')
    return steps


@functools.lru_cache(maxsize=1024)
def _cached_steps(path: str) -> tuple[str | int, ...]:
    """A valid path's steps, parsed once (a source's every record uses the same path)."""
    return tuple(path_steps(path))


_MISSING: Any = object()


def lookup(document: Any, steps: Sequence[str | int]) -> Any:
    """The value at `steps` in `document`, or `_MISSING`."""
    value = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _MISSING
            value = value[step]
        else:
            if not isinstance(value, Mapping) or step not in value:
                return _MISSING
            value = value[step]
    return value


class KeyMissing(Exception):
    """The configured key is absent: the record cannot be deduplicated (a reject)."""


def request_key(config: Dedupe, headers: Mapping[str, str], body: bytes) -> str | None:
    """The request's key (header and body-hash modes), or None."""
    if isinstance(config, HeaderDedupe):
        value = headers.get(config.header.lower())
        return f"h:{value[:MAX_KEY_CHARS]}" if value else None
    if isinstance(config, BodyHashDedupe):
        return "b:" + hashlib.sha256(body).hexdigest()
    return None


def record_key(
    config: Dedupe, request: str | None, record: Mapping[str, Any] | None, position: int
) -> str | None:
    """The key of one record; raises KeyMissing when the mode needs one and finds none."""
    if isinstance(config, NoDedupe):
        return None
    if isinstance(config, PathDedupe):
        value = lookup(record, _cached_steps(config.path))
        if value is _MISSING:
            raise KeyMissing(f"the record has no {config.path}")
        if value is None or isinstance(value, dict | list) or value == "":
            raise KeyMissing(f"{config.path} must be a string or number")
        return f"p:{str(value)[:MAX_KEY_CHARS]}"
    if request is None:
        raise KeyMissing("the request has no dedupe header")
    return f"{request}#{position}"
