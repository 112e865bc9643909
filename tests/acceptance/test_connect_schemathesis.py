"""Schemathesis against the running server's OpenAPI document.

Thousands of generated requests (valid and invalid) against `/connect/v1` on a seeded
environment: no 5xx, and every answer matches its documented status, content type,
headers and schema. Bounded (examples per operation, fixed seed) so it takes seconds.
The admin API gets a lighter run (no 5xx, response schemas) marked slow: it takes
minutes, so it runs with PLAUDIT_RUN_SLOW=1.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import PLAUDIT, Runner, ServedFactory

SCHEMATHESIS = PLAUDIT.parent / "st"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
RUN_TIMEOUT_S = 240


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def seed(http: httpx.Client, admin_key: str) -> None:
    """Users, a group, a recognition with points, a redemption with a voucher."""
    auth = {"Authorization": f"Bearer {admin_key}"}
    ada = _ok(
        http.post(
            "/api/v1/employees",
            headers=auth,
            json={"name": "Ada", "email": "ada@example.com", "birth_date": "1990-02-28"},
        )
    )
    bob = _ok(http.post("/api/v1/employees", headers=auth, json={"name": "Bob"}))
    group = _ok(http.post("/api/v1/groups", headers=auth, json={"name": "Team", "kind": "team"}))
    _ok(
        http.put(
            f"/api/v1/groups/{group['id']}/members",
            headers=auth,
            json={"employee_ids": [ada["id"], bob["id"]]},
        )
    )
    _ok(
        http.post(
            "/api/v1/recognitions",
            headers=auth,
            json={
                "giver_id": bob["id"],
                "receiver_ids": [ada["id"]],
                "message": "Hi",
                "points": 50,
            },
        )
    )
    reward = _ok(
        http.post(
            "/api/v1/rewards",
            headers=auth,
            json={
                "name": "Book",
                "point_cost": 20,
                "value": {"amount": "10.00", "currency": "EUR"},
            },
        )
    )
    _ok(
        http.post(
            "/api/v1/redemptions",
            headers=auth,
            json={"employee_id": ada["id"], "reward_id": reward["id"]},
        )
    )


def schemathesis(
    base_url: str, key: str, paths: str, checks: tuple[str, ...], examples: int, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(SCHEMATHESIS), "run", f"{base_url}/openapi.json",
            "--include-path-regex", paths,
            "--header", f"Authorization: Bearer {key}",
            "--checks", ",".join(checks),
            "--max-examples", str(examples), "--seed", "20261205", "--workers", "1",
            "--generation-database", "none", "--no-color",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip


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
    with served(connect_rate_limit_per_s=100_000, connect_rate_limit_burst=100_000) as server:
        with server.client() as http:
            seed(http, org["environments"]["production"]["api_key"])
        run = schemathesis(server.base_url, reader, "^/connect/v1/", CHECKS, 25, tmp_path)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "passed" in run.stdout


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("PLAUDIT_RUN_SLOW") != "1", reason="PLAUDIT_RUN_SLOW=1 runs it")
def test_admin_api_has_no_server_errors_and_keeps_its_schemas(
    org: dict[str, Any], served: ServedFactory, tmp_path: Path
) -> None:
    admin = org["environments"]["production"]["api_key"]
    with served() as server:
        with server.client() as http:
            seed(http, admin)
        checks = ("not_a_server_error", "response_schema_conformance")
        run = schemathesis(server.base_url, admin, "^/api/v1/", checks, 10, tmp_path)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
