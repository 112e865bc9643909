"""Schemathesis against the running server's OpenAPI document.

Generated requests (valid and invalid) against `/connect/v1` on a seeded environment (see
`connect_seed`): no 5xx, and every answer matches its documented status, content type,
headers and schema. The seeded ids are bound to the matching path and query parameters
(schemathesis dictionaries, drawn with a probability so unknown ids are still tried), so
requests reach real campaigns, progress, leaderboards and payouts, not only 404s. Bounded
(examples per operation, fixed seed) so it takes seconds. The admin API gets a lighter run
(no 5xx, response schemas) marked slow: it takes minutes, so it runs with PLAUDIT_RUN_SLOW=1.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import PLAUDIT, Runner, ServedFactory
from tests.acceptance.connect_seed import SERVE_SETTINGS, Seeded, seed

SCHEMATHESIS = PLAUDIT.parent / "st"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
RUN_TIMEOUT_S = 240
# Which seeded ids each parameter name draws from, and how often: the rest of the time
# schemathesis generates its own value (an unknown id: a 404 or 422 to check too).
BINDINGS: dict[str, tuple[str, float]] = {
    "path.user_id": ("user_ids", 0.8),
    "path.employee_id": ("user_ids", 0.8),
    "path.group_id": ("group_ids", 0.8),
    "path.campaign_id": ("campaign_ids", 0.8),
    "path.payout_id": ("payout_ids", 0.8),
    "path.recognition_id": ("recognition_ids", 0.8),
    "path.redemption_id": ("redemption_ids", 0.8),
    "path.reward_id": ("reward_ids", 0.8),
    "query.user_id": ("user_ids", 0.3),
    "query.employee_id": ("user_ids", 0.3),
    "query.giver_id": ("user_ids", 0.3),
    "query.receiver_id": ("user_ids", 0.3),
    "query.group_id": ("group_ids", 0.3),
    "query.campaign_id": ("campaign_ids", 0.3),
    "query.leaderboard_id": ("leaderboard_ids", 0.7),
    "query.reward_id": ("reward_ids", 0.3),
    "query.period": ("periods", 0.7),
}


def config_file(seeded: Seeded, directory: Path) -> Path:
    """A `schemathesis.toml` binding the seeded ids to the parameters that name them."""
    lists = asdict(seeded)
    lines = [
        f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n"
        for name, values in lists.items()
        if values
    ]
    lines.append("[parameters]")
    lines += [
        f'"{parameter}" = {{ dictionary = "{name}", probability = {probability} }}'
        for parameter, (name, probability) in BINDINGS.items()
        if lists[name]
    ]
    path = directory / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def schemathesis(
    base_url: str,
    key: str,
    paths: str,
    checks: tuple[str, ...],
    examples: int,
    cwd: Path,
    seeded: Seeded,
    extra: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(SCHEMATHESIS), "--config-file", str(config_file(seeded, cwd)),
            "run", f"{base_url}/openapi.json",
            "--include-path-regex", paths,
            "--header", f"Authorization: Bearer {key}",
            "--checks", ",".join(checks),
            "--max-examples", str(examples), "--seed", "20261205", "--workers", "1",
            "--generation-database", "none", "--no-color", *extra,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip


def _fits(template: str, path: str) -> bool:
    wanted, got = template.split("/"), path.split("/")
    return len(wanted) == len(got) and all(
        w == g or (w.startswith("{") and g) for w, g in zip(wanted, got, strict=True)
    )


def answered_200(har: Path, document: dict[str, Any], prefix: str) -> Counter[str]:
    """How many 200 answers each GET operation under `prefix` got, from a HAR report."""
    templates = [path for path in document["paths"] if path.startswith(prefix)]
    counts: Counter[str] = Counter(dict.fromkeys(templates, 0))
    for entry in json.loads(har.read_text())["log"]["entries"]:
        if (entry["request"]["method"], entry["response"]["status"]) != ("GET", 200):
            continue
        path = httpx.URL(entry["request"]["url"]).path
        fitting = [t for t in templates if _fits(t, path)]
        if fitting:  # the most specific: `/users/{id}/points` before `/users/{id}/{x}`
            counts[min(fitting, key=lambda t: t.count("{"))] += 1
    return counts


def test_connect_api_conforms_to_its_openapi_document(
    plaudit: Runner, org: dict[str, Any], served: ServedFactory, tmp_path: Path
) -> None:
    created = plaudit(
        "keys", "create", "--org", org["org_id"], "--env", "production", "--name", "st",
        "--scope", "connect:read", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    reader = json.loads(created.stdout)["api_key"]
    # The limit is tested elsewhere; here it would only turn generated requests into 429s.
    limits = {"connect_rate_limit_per_s": 100_000, "connect_rate_limit_burst": 100_000}
    with served(**limits, **SERVE_SETTINGS) as server:
        with server.client() as http:
            seeded = seed(http, org["environments"]["production"]["api_key"])
            document = http.get("/openapi.json").json()
        har = tmp_path / "connect.har"
        report = ("--report", "har", "--report-har-path", str(har))
        run = schemathesis(
            server.base_url, reader, "^/connect/v1/", CHECKS, 25, tmp_path, seeded, report
        )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "passed" in run.stdout
    # The run means something only if it reached the seeded data on every operation.
    answered = answered_200(har, document, "/connect/v1/")
    assert not [op for op, count in answered.items() if not count], answered


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("PLAUDIT_RUN_SLOW") != "1", reason="PLAUDIT_RUN_SLOW=1 runs it")
def test_admin_api_has_no_server_errors_and_keeps_its_schemas(
    org: dict[str, Any], served: ServedFactory, tmp_path: Path
) -> None:
    admin = org["environments"]["production"]["api_key"]
    with served(**SERVE_SETTINGS) as server:
        with server.client() as http:
            seeded = seed(http, admin)
        checks = ("not_a_server_error", "response_schema_conformance")
        run = schemathesis(server.base_url, admin, "^/api/v1/", checks, 10, tmp_path, seeded)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
