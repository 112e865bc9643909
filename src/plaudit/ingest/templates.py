"""Running a source's JSONata template over records, bounded, in batches.

Engine: jsonatapy in sandbox worker processes (`plaudit.transform.jsonata_engine`, which has the
comparison with jsonata-python and how time, memory and output are bounded). One worker round
trip costs ~100 us, the mapping itself a few, so a request's records are mapped in ONE
evaluation of `$map($, function($r){ {"o": $r.(TEMPLATE)} })` (~15 us a record); the `{"o": }`
wrapper keeps positions when a record maps to nothing. If that batch fails (one bad record, a
limit), the records are mapped one by one so each gets its own result and exact error.

Inside the template `$` is the record. A template that times out on two records of one
request costs at most two time bounds: the request's remaining records are rejected as
skipped (and can be replayed once the template is fixed), so a looping template never holds
a request for long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from plaudit.transform.jsonata_engine import (
    CompiledTemplate,
    TemplateError,
    TemplateLimitExceeded,
    TemplateLimits,
    compile_template,
)

MAX_TEMPLATE_CHARS: Final = 20_000
RECORD_LIMITS: Final = TemplateLimits(timeout_ms=100, max_depth=200, max_output_bytes=1_000_000)
_BATCH_BUDGET_MS: Final = 2_000
_MAX_TIMEOUTS: Final = 2


@dataclass(frozen=True, slots=True)
class Mapped:
    output: Any = None
    error: TemplateError | None = None
    skipped: bool = False


def check_template(source: str) -> CompiledTemplate:
    """Compile or raise TemplateError (with the position of a syntax error)."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"a template has at most {MAX_TEMPLATE_CHARS} characters")
    compiled = compile_template(source, RECORD_LIMITS)
    compile_template(_batch_source(source), _batch_limits(1))
    return compiled


def _batch_source(source: str) -> str:
    # The newline ends a trailing // comment; the parentheses keep a `;` block together.
    return '$map($, function($r){ {"o": $r.(\n' + source + "\n)} })"


def _batch_limits(count: int) -> TemplateLimits:
    budget = min(_BATCH_BUDGET_MS, RECORD_LIMITS.timeout_ms * max(1, count))
    return TemplateLimits(
        timeout_ms=budget,
        max_depth=RECORD_LIMITS.max_depth,
        max_output_bytes=min(64 * 1024 * 1024, RECORD_LIMITS.max_output_bytes * max(1, count)),
    )


def map_one(template: CompiledTemplate, record: Any) -> Mapped:
    try:
        return Mapped(output=template.evaluate(record, RECORD_LIMITS))
    except TemplateError as exc:
        return Mapped(error=exc)


def map_records(source: str, records: Sequence[Any]) -> list[Mapped]:
    """Map every record (blocking: call from a thread). Never raises for a bad template."""
    if not records:
        return []
    try:
        single = compile_template(source, RECORD_LIMITS)
    except TemplateError as exc:
        return [Mapped(error=exc) for _ in records]
    if len(records) > 1:
        try:
            batch = compile_template(_batch_source(source), _batch_limits(len(records)))
            result = batch.evaluate(list(records))
        except TemplateError:
            pass  # map one by one below: each record gets its own answer
        else:
            outputs = result if isinstance(result, list) else [result]
            if len(outputs) == len(records) and all(isinstance(o, dict) for o in outputs):
                return [Mapped(output=o.get("o")) for o in outputs]
    mapped: list[Mapped] = []
    timeouts = 0
    for record in records:
        if timeouts >= _MAX_TIMEOUTS:
            mapped.append(Mapped(skipped=True))
            continue
        one = map_one(single, record)
        if isinstance(one.error, TemplateLimitExceeded) and one.error.limit == "time":
            timeouts += 1
        mapped.append(one)
    return mapped


def describe(error: TemplateError) -> tuple[str, str]:
    """(reason code, message) of a template failure, for a reject."""
    if isinstance(error, TemplateLimitExceeded):
        return f"template_{error.limit}_limit", str(error)
    return "template_error", str(error)
