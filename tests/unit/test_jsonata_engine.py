"""Sandboxed JSONata templates: mappings, typed errors, and every bound."""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from plaudit.transform import jsonata_engine
from plaudit.transform.jsonata_engine import (
    CompiledTemplate,
    TemplateError,
    TemplateEvaluationError,
    TemplateLimitExceeded,
    TemplateLimits,
    TemplateSyntaxError,
    compile_template,
    shutdown_workers,
)

BOUND = TemplateLimits(timeout_ms=100)
# "Within ~2x the bound": the engine stops most runaways itself at 100 ms; the rest are killed
# at 150 ms. A little slack for a loaded CI machine.
STOP_WITHIN_S = 2 * BOUND.timeout_ms / 1000 + 0.05

DEAL: dict[str, Any] = {
    "Id": "0065g00000XyZ12AAB",
    "Owner": {"Email": "Jane.Doe@Example.com", "Name": "Jane Doe"},
    "Amount": "12500.50",
    "CloseDate": "2025-03-31",
    "Stage": "Closed Won",
    "Lines": [
        {"Sku": "A-1", "Quantity": 2, "UnitPrice": 100.0},
        {"Sku": "B-2", "Quantity": 1, "UnitPrice": 250.5},
        {"Sku": "C-3", "Quantity": 4, "UnitPrice": 10.0},
    ],
}

CRM_MAPPING = """{
  "external_id": Id,
  "employee": {"email": Owner.Email},
  "value": $number(Amount),
  "occurred_at": CloseDate,
  "attributes": {"stage": Stage, "lines": $count(Lines)}
}"""


@pytest.fixture(scope="module", autouse=True)
def _workers() -> Iterator[None]:
    yield
    shutdown_workers()


def evaluate(source: str, document: Any = None, limits: TemplateLimits | None = None) -> Any:
    return compile_template(source).evaluate(document, limits)


def assert_stops(source: str, *limits: str, document: Any = None) -> TemplateLimitExceeded:
    template = compile_template(source, BOUND)
    started = time.monotonic()
    with pytest.raises(TemplateLimitExceeded) as caught:
        template.evaluate(document)
    elapsed = time.monotonic() - started
    assert caught.value.limit in limits
    assert elapsed < STOP_WITHIN_S, f"{source!r} took {elapsed:.3f}s"
    return caught.value


# --- mappings ---------------------------------------------------------------------------------


def test_crm_deal_mapping() -> None:
    assert evaluate(CRM_MAPPING, DEAL) == {
        "external_id": "0065g00000XyZ12AAB",
        "employee": {"email": "Jane.Doe@Example.com"},
        "value": 12500.5,
        "occurred_at": "2025-03-31",
        "attributes": {"stage": "Closed Won", "lines": 3},
    }


def test_arrays_and_arithmetic() -> None:
    source = """{
      "skus": Lines.Sku,
      "big": Lines[Quantity > 1].Sku,
      "total": $sum(Lines.(Quantity * UnitPrice)),
      "doubled": $map(Lines, function($l) { $l.Quantity * 2 }),
      "average": $round($average(Lines.UnitPrice), 2)
    }"""
    assert evaluate(source, DEAL) == {
        "skus": ["A-1", "B-2", "C-3"],
        "big": ["A-1", "C-3"],
        "total": 490.5,
        "doubled": [4, 2, 8],
        "average": 120.17,
    }


def test_string_functions_and_conditionals() -> None:
    source = """{
      "email": $lowercase(Owner.Email),
      "user": $substringBefore($lowercase(Owner.Email), "@"),
      "label": Stage & " / " & $uppercase(Owner.Name),
      "skus": $join(Lines.Sku, ","),
      "won": Stage = "Closed Won" ? "yes" : "no"
    }"""
    assert evaluate(source, DEAL) == {
        "email": "jane.doe@example.com",
        "user": "jane.doe",
        "label": "Closed Won / JANE DOE",
        "skus": "A-1,B-2,C-3",
        "won": "yes",
    }


def test_missing_fields_are_omitted_and_undefined_is_none() -> None:
    assert evaluate('{"id": Id, "nope": Missing.Field}', {"Id": 7}) == {"id": 7}
    assert evaluate("Missing", {"Id": 7}) is None


def test_evaluation_does_not_mutate_input() -> None:
    document = copy.deepcopy(DEAL)
    source = '$ ~> |Owner|{"Email": "changed@example.com"}, ["Name"]|'
    result = evaluate(source, document)
    assert result["Owner"] == {"Email": "changed@example.com"}
    assert document == DEAL
    result["Lines"].append("mutated output")
    assert document == DEAL


def test_template_is_reusable_and_repr_shows_source() -> None:
    template = compile_template("$sum(values)")
    assert isinstance(template, CompiledTemplate)
    assert template.source == "$sum(values)"
    assert [template.evaluate({"values": list(range(n))}) for n in (1, 3, 5)] == [0, 3, 10]
    assert "$sum(values)" in repr(template)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "position"),
    [('{"a": }', 7), ("a.b +", 5), ("Lines[Quantity > 1", 18)],
)
def test_syntax_error_carries_position(source: str, position: int) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(source)
    error = caught.value
    assert error.position == position
    assert error.code is not None
    assert error.code.startswith("S")
    assert f"position {position}" in str(error)


def test_empty_overlong_and_deeply_nested_sources_are_syntax_errors() -> None:
    with pytest.raises(TemplateSyntaxError):
        compile_template("")
    with pytest.raises(TemplateSyntaxError, match="longer than"):
        compile_template("1" * (jsonata_engine.MAX_TEMPLATE_CHARS + 1))
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template("(" * 5000 + "1" + ")" * 5000)
    assert caught.value.code == "U1002"


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ('1 + "a"', "T2002"),
        ("$nosuchfunction(1)", "T1006"),
        ('$number("abc")', "D3030"),
        ('$error("custom failure")', "D3137"),
    ],
)
def test_runtime_errors_are_typed(source: str, code: str) -> None:
    with pytest.raises(TemplateEvaluationError) as caught:
        evaluate(source, {})
    assert caught.value.code == code
    assert isinstance(caught.value, TemplateError)
    assert not isinstance(caught.value, TemplateSyntaxError | TemplateLimitExceeded)


def test_non_json_document_is_refused() -> None:
    with pytest.raises(TemplateEvaluationError, match="JSON"):
        evaluate("$", {"handle": object()})


def test_limits_are_validated() -> None:
    for bad in ({"timeout_ms": 0}, {"max_depth": -1}, {"max_output_bytes": True}):
        with pytest.raises(ValueError, match="must be an integer"):
            TemplateLimits(**bad)


# --- bounds -----------------------------------------------------------------------------------


def test_infinite_recursion_stops_within_the_bound() -> None:
    error = assert_stops("($f := function($x){ $f($x) }; $f(1))", "time")
    assert isinstance(error, TemplateError)


def test_deep_recursion_hits_the_depth_bound() -> None:
    error = assert_stops(
        "($f := function($x){ $x > 0 ? 1 + $f($x - 1) : 0 }; $f(1000000))", "depth"
    )
    assert error.code == "D1011"


@pytest.mark.parametrize(
    "source",
    [
        "$map([1..10000000], function($v){ $v })",
        "$count([1..10000000])",
        '$length($pad("", 1000000000))',  # one long built-in call: the worker is killed
        '($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("x", 40)))',
    ],
)
def test_explosions_stop_within_the_bound(source: str) -> None:
    # Whichever comes first: the clock, or the worker's memory cap.
    assert_stops(source, "time", "memory")


def test_output_over_max_output_bytes_is_refused() -> None:
    limits = TemplateLimits(max_output_bytes=1000)
    assert len(evaluate('$pad("", 900)', None, limits)) == 900
    with pytest.raises(TemplateLimitExceeded) as caught:
        evaluate('$pad("", 2000)', None, limits)
    assert caught.value.limit == "output_size"


def test_memory_bomb_aborts_the_worker_not_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # A small cap makes the bomb hit it quickly; fresh workers pick the cap up.
    monkeypatch.setattr(jsonata_engine, "WORKER_MEMORY_HEADROOM_BYTES", 64 * 1024 * 1024)
    shutdown_workers()
    try:
        with pytest.raises(TemplateLimitExceeded) as caught:
            evaluate('$count([1..10000000].{"a": $})', None, TemplateLimits(timeout_ms=10_000))
        assert caught.value.limit == "memory"
        assert evaluate("a + 1", {"a": 1}) == 2
    finally:
        shutdown_workers()


def test_bound_is_per_evaluation_not_from_compile_time() -> None:
    template = compile_template("$sum(a)", BOUND)
    time.sleep(0.3)  # longer than the bound
    assert template.evaluate({"a": [1, 2, 3]}) == 6
    time.sleep(0.15)
    assert template.evaluate({"a": [4]}) == 4


def test_limits_can_be_overridden_per_call() -> None:
    template = compile_template("($f := function($x){ $f($x) }; $f(1))", TemplateLimits(10_000))
    started = time.monotonic()
    with pytest.raises(TemplateLimitExceeded):
        template.evaluate(None, TemplateLimits(timeout_ms=50))
    assert time.monotonic() - started < 0.5


def test_runaway_does_not_block_other_evaluations() -> None:
    runaway = compile_template(
        "($f := function($x){ $f($x) }; $f(1))", TemplateLimits(timeout_ms=400)
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            runaway.evaluate(None)
        except TemplateLimitExceeded as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.05)
    quick = compile_template("a * 2")
    started = time.monotonic()
    assert [quick.evaluate({"a": n}) for n in range(20)] == [n * 2 for n in range(20)]
    assert time.monotonic() - started < 0.5
    thread.join()
    assert len(errors) == 1


async def test_evaluate_async_keeps_the_event_loop_running() -> None:
    template = compile_template("$map([1..10000000], function($v){ $v })", BOUND)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    with pytest.raises(TemplateLimitExceeded):
        await template.evaluate_async(None)
    task.cancel()
    assert ticks >= 10
    assert await compile_template("x").evaluate_async({"x": 1}) == 1


def test_recovers_when_a_worker_dies_while_idle() -> None:
    template = compile_template("x")
    assert template.evaluate({"x": 1}) == 1
    for worker in list(jsonata_engine._pool()._idle):
        worker.proc.kill()
        worker.proc.wait()
    assert template.evaluate({"x": 2}) == 2


# --- isolation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        '$env("HOME")',
        '$getenv("PATH")',
        '$readFile("/etc/passwd")',
        '$open("/etc/passwd")',
        '$httpGet("http://127.0.0.1/")',
        '$exec("id")',
        '$system("id")',
        '$import("os")',
        '$require("fs")',
    ],
)
def test_no_environment_file_network_or_process_access(source: str) -> None:
    with pytest.raises(TemplateEvaluationError) as caught:
        evaluate(source, {})
    assert caught.value.code == "T1006"


def test_eval_is_disabled() -> None:
    for source in ('$eval("1 + 1")', '($e := $eval; $e("1"))', "$eval(code)"):
        with pytest.raises(TemplateEvaluationError, match="disabled"):
            evaluate(source, {"code": "$string($)"})


def test_no_python_objects_are_reachable() -> None:
    document = {"a": 1}
    assert evaluate("$.__class__", document) is None
    assert evaluate('$lookup($, "__class__")', document) is None
    assert evaluate("$keys($)", document) == "a"
    assert evaluate("$string($uppercase)", document) == ""


def test_worker_environment_carries_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAUDIT_DATABASE_URL", "postgresql://user:secret@db/plaudit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    env = jsonata_engine._worker_env()
    assert "PLAUDIT_DATABASE_URL" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env
