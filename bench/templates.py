"""Per-document cost of a JSONata mapping, per engine (run: python bench/templates.py).

The mapping is the inbound-source case: a CRM deal mapped to Plaudit's canonical record.
Rows:
  python (baseline)         hand-written dict mapping, the floor
  jsonatapy in-process      Rust engine called directly (cannot be bounded safely in-process)
  jsonata-python reused     pure-Python engine, compiled once, bounds re-armed per call
  jsonata-python rebuilt    pure-Python engine built per call (its clock starts at build)
  plaudit sandbox           what plaudit uses: jsonatapy in a worker process, per-call bounds
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import jsonata  # type: ignore[import-untyped]
import jsonatapy

from plaudit.transform.jsonata_engine import DEFAULT_LIMITS, compile_template, shutdown_workers

TEMPLATE = """{
  "external_id": Id,
  "employee": {"email": Owner.Email},
  "value": $number(Amount),
  "occurred_at": CloseDate,
  "attributes": {"stage": Stage, "lines": $count(Lines)}
}"""

DEAL: dict[str, Any] = {
    "Id": "0065g00000XyZ12AAB",
    "Name": "ACME renewal 2025",
    "Owner": {"Id": "0055g00000AbC", "Email": "jane.doe@example.com", "Name": "Jane Doe"},
    "Amount": "12500.50",
    "CloseDate": "2025-03-31",
    "Stage": "Closed Won",
    "Lines": [
        {"Sku": f"SKU-{i}", "Quantity": i + 1, "UnitPrice": 100.0 * (i + 1)} for i in range(5)
    ],
}


def python_mapping(deal: dict[str, Any]) -> dict[str, Any]:
    return {
        "external_id": deal.get("Id"),
        "employee": {"email": (deal.get("Owner") or {}).get("Email")},
        "value": float(deal["Amount"]),
        "occurred_at": deal.get("CloseDate"),
        "attributes": {"stage": deal.get("Stage"), "lines": len(deal.get("Lines") or [])},
    }


def engines() -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
    limits = DEFAULT_LIMITS
    rust = jsonatapy.compile(TEMPLATE)

    def rust_in_process(doc: dict[str, Any]) -> Any:
        return rust.evaluate(doc, timeout=limits.timeout_ms, max_stack_depth=limits.max_depth)

    reused = jsonata.Jsonata(TEMPLATE)

    def python_reused(doc: dict[str, Any]) -> Any:
        # The Timebox clock starts when bounds are set, so re-arm it for each evaluation.
        reused.environment.set_runtime_bounds(limits.timeout_ms, limits.max_depth)
        return reused.evaluate(doc)

    def python_rebuilt(doc: dict[str, Any]) -> Any:
        return jsonata.Jsonata(
            TEMPLATE, timeout=limits.timeout_ms, stack=limits.max_depth
        ).evaluate(doc)

    sandboxed = compile_template(TEMPLATE)
    return [
        ("python (baseline)", python_mapping),
        ("jsonatapy in-process", rust_in_process),
        ("jsonata-python reused", python_reused),
        ("jsonata-python rebuilt", python_rebuilt),
        ("plaudit sandbox", sandboxed.evaluate),
    ]


def measure(func: Callable[[dict[str, Any]], Any], seconds: float) -> float:
    for _ in range(50):  # warm-up
        func(DEAL)
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(100):
            func(DEAL)
        count += 100
        now = time.perf_counter()
        if now >= deadline:
            return (now - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per engine")
    args = parser.parse_args()
    try:
        rows = engines()
        expected = python_mapping(DEAL)
        for name, func in rows:
            if func(DEAL) != expected:
                raise SystemExit(f"{name} gave {func(DEAL)!r}, expected {expected!r}")
        print(f"{'engine':<24} {'µs/doc':>10} {'docs/s':>12}")
        for name, func in rows:
            per_doc = measure(func, args.seconds)
            print(f"{name:<24} {per_doc * 1e6:>10.1f} {1 / per_doc:>12,.0f}")
    finally:
        shutdown_workers()


if __name__ == "__main__":
    main()
