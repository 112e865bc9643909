"""Splitting a raw body into records: JSON object, JSON array, `{"records": [...]}`, JSON lines,
CSV with a header row.

The format follows the content type (`application/json`, `application/x-ndjson` or
`application/jsonl`, `text/csv`); without one, the first byte decides (`{`/`[` = JSON). A body
that cannot be split at all is a `BodyRejected` (the sender gets 400). Inside JSON lines and
CSV one bad line is one rejected record and the others load.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any, Final

import orjson

MAX_RECORDS: Final = 10_000
_NDJSON: Final = frozenset({"application/x-ndjson", "application/jsonl", "application/jsonlines"})
_NDJSON_TEXT: Final = frozenset({"application/x-jsonlines", "text/jsonl", "text/x-ndjson"})


class BodyRejected(Exception):
    """The body as a whole cannot be read as records."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    value: dict[str, Any] | None  # None when the record could not be parsed
    raw_text: str | None = None  # the unparsable text, kept for the reject
    error: str | None = None


_NUL_REASON: Final = "the record holds a NUL (\\u0000) character, which cannot be stored"


def storable_text(text: str) -> str:
    """Text as it can be stored anywhere (PostgreSQL refuses NUL characters)."""
    return text.replace("\x00", "\ufffd")


# `\u0000` not itself escaped (an even number of backslashes before it): a NUL character.
_ESCAPED_NUL: Final = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def holds_nul(value: Any) -> bool:
    """True when a JSON value holds a NUL character in a key or a string."""
    try:
        text = orjson.dumps(value)
    except TypeError:
        return False
    # The plain search first: the pattern alone tries a match at every position.
    return b"\\u0000" in text and _ESCAPED_NUL.search(text) is not None


def _checked(
    item: dict[str, Any], raw: str | None = None, *, may_hold_nul: bool = True
) -> ParsedRecord:
    # `may_hold_nul` False: the bytes it came from hold no NUL, raw or escaped, so neither
    # can the record (serialising each record to look costs more than parsing it).
    if may_hold_nul and holds_nul(item):
        return ParsedRecord(
            None, storable_text(raw if raw is not None else _text(item)), _NUL_REASON
        )
    return ParsedRecord(item)


def _may_hold_nul(raw: bytes) -> bool:
    """False when no JSON value read from `raw` can hold a NUL character."""
    return b"\\u0000" in raw or b"\x00" in raw


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_supported(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return (
        kind in ("", "text/csv", "application/json", "text/plain")
        or kind in _NDJSON
        or kind in _NDJSON_TEXT
        or (kind.startswith("application/") and kind.endswith("+json"))
    )


def parse_body(content_type: str | None, body: bytes) -> list[ParsedRecord]:
    kind = media_type(content_type)
    if not is_supported(content_type):
        raise BodyRejected(
            "unsupported_media_type",
            f"cannot read {kind!r}: send JSON, JSON lines (application/x-ndjson) or text/csv",
        )
    if kind in _NDJSON or kind in _NDJSON_TEXT:
        return _json_lines(body)
    if kind == "text/csv":
        return _csv(body)
    if not body.strip():
        raise BodyRejected("empty_body", "the body is empty")
    return _json(body)


def _json(body: bytes) -> list[ParsedRecord]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyRejected("malformed_json", f"the body is not JSON: {exc}") from None
    if isinstance(document, dict) and set(document) == {"records"}:
        document = document["records"]
        if not isinstance(document, list):
            raise BodyRejected("malformed_body", '"records" must be an array')
    may_hold_nul = _may_hold_nul(body)
    if isinstance(document, dict):
        return [_checked(document, may_hold_nul=may_hold_nul)]
    if not isinstance(document, list):
        raise BodyRejected(
            "malformed_body", 'send a JSON object, an array of objects or {"records": [...]}'
        )
    _check_count(len(document))
    return [
        _checked(item, may_hold_nul=may_hold_nul)
        if isinstance(item, dict)
        else ParsedRecord(None, _text(item), "the record is not a JSON object")
        for item in document
    ]


def _json_lines(body: bytes) -> list[ParsedRecord]:
    records: list[ParsedRecord] = []
    for line in body.splitlines():
        if not line.strip():
            continue
        _check_count(len(records) + 1)
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            records.append(ParsedRecord(None, _decoded(line), f"the line is not JSON: {exc}"))
            continue
        if isinstance(item, dict):
            records.append(_checked(item, _decoded(line), may_hold_nul=_may_hold_nul(line)))
        else:
            records.append(ParsedRecord(None, _decoded(line), "the line is not a JSON object"))
    if not records:
        raise BodyRejected("empty_body", "the body holds no lines")
    return records


def _csv(body: bytes) -> list[ParsedRecord]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BodyRejected("malformed_csv", f"the CSV is not UTF-8 (byte {exc.start})") from None
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, strict=True)
    try:
        header = next((row for row in reader if row), None)
    except csv.Error as exc:
        raise BodyRejected("malformed_csv", f"the CSV header cannot be read: {exc}") from None
    if header is None:
        raise BodyRejected("empty_body", "the CSV is empty: it needs a header row")
    columns = [name.strip() for name in header]
    may_hold_nul = "\x00" in text
    if len(set(columns)) != len(columns) or "" in columns:
        raise BodyRejected("malformed_csv", "CSV column names must be unique and non-empty")
    records: list[ParsedRecord] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            records.append(
                ParsedRecord(None, None, f"line {reader.line_num} cannot be read: {exc}")
            )
            break  # the csv module cannot resynchronise after a broken quote
        if not cells or cells == [""]:
            continue
        _check_count(len(records) + 1)
        if len(cells) != len(columns):
            records.append(
                ParsedRecord(
                    None,
                    storable_text(",".join(cells)),
                    f"line {reader.line_num} has {len(cells)} cells; the header has {len(columns)}",
                )
            )
            continue
        records.append(
            _checked(
                dict(zip(columns, cells, strict=True)),
                ",".join(cells),
                may_hold_nul=may_hold_nul,
            )
        )
    if not records:
        raise BodyRejected("empty_body", "the CSV has a header but no rows")
    return records


def _check_count(count: int) -> None:
    if count > MAX_RECORDS:
        raise BodyRejected(
            "too_many_records", f"a request holds at most {MAX_RECORDS} records; split it"
        )


def _decoded(line: bytes) -> str:
    return storable_text(line.decode("utf-8", errors="replace"))


def _text(item: Any) -> str:
    return storable_text(orjson.dumps(item).decode())
