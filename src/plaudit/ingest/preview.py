"""Preview: map a sample with a source's template (or a draft of one) and store nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from plaudit.domain.errors import ValidationFailed
from plaudit.ingest.models import Source
from plaudit.ingest.parsing import BodyRejected, parse_body
from plaudit.ingest.records import RecordInvalid, validate_record
from plaudit.ingest.sources import template_problem
from plaudit.ingest.templates import RECORD_LIMITS, describe, map_one
from plaudit.transform.jsonata_engine import compile_template


async def preview(
    source: Source, sample: Any, *, template: str | None, content_type: str | None
) -> dict[str, Any]:
    """Each sample record mapped, or its exact error (template errors with their position).

    `sample` is either the parsed body (an object, an array, `{"records": [...]}`) or the raw
    body as a string, read according to `content_type` (e.g. CSV or JSON lines).
    """
    text = template if template is not None else source.template
    if template is not None:
        template_problem(template)
    if isinstance(sample, str):
        body, kind = sample.encode(), content_type
    else:
        body, kind = orjson.dumps(sample), "application/json"
    try:
        parsed = parse_body(kind, body)
    except BodyRejected as exc:
        raise ValidationFailed(
            f"sample: {exc.reason}", code="invalid_sample", details={"reason_code": exc.code}
        ) from exc
    compiled = compile_template(text, RECORD_LIMITS)
    results: list[dict[str, Any]] = []
    for position, record in enumerate(parsed):
        entry: dict[str, Any] = {"position": position, "input": record.value, "output": None}
        if record.value is None:
            entry["error"] = _error("parse", "malformed_record", record.error or "")
            results.append(entry)
            continue
        mapped = await asyncio.to_thread(map_one, compiled, record.value)
        if mapped.error is not None:
            code, message = describe(mapped.error)
            entry["error"] = _error(
                "template", code, message, position=mapped.error.position, engine=mapped.error.code
            )
        else:
            entry["output"] = mapped.output
            try:
                validate_record(source.record_type, mapped.output)
                entry["error"] = None
            except RecordInvalid as exc:
                entry["error"] = _error("validation", "invalid_record", str(exc), path=exc.path)
        results.append(entry)
    return {
        "template_version": None if template is not None else source.template_version,
        "record_type": source.record_type,
        "records": results,
    }


def _error(stage: str, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"stage": stage, "code": code, "message": message, **extra}
