"""Acceptance: the `plaudit` command and server, run as an operator runs them."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plaudit.config import describe_settings
from plaudit.store.migrate import head_revision
from tests.acceptance.conftest import (
    SHUTDOWN_GRACE_S,
    Runner,
    ServedFactory,
    StartedFactory,
    clean_env,
    free_port,
    json_lines,
)

COMMANDS = ("serve", "worker", "migrate", "orgs", "keys", "milestones")
ORG_ID = re.compile(r"^org_[0-9A-Za-z]+$")
ENV_ID = re.compile(r"^env_[0-9A-Za-z]+$")
KEY_ID = re.compile(r"^key_[0-9A-Za-z]+$")
LIVE_KEY = re.compile(r"^pk_live_[A-Za-z0-9_-]{43}$")
TEST_KEY = re.compile(r"^pk_test_[A-Za-z0-9_-]{43}$")


def birthday_event() -> dict[str, Any]:
    return {
        "type": "milestone.birthday",
        "data": {
            "employee": {"id": "usr_1", "external_id": None, "email": "a@example.com", "name": "A"},
            "occurred_on": "2026-12-04",
        },
    }


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def key_create(org_id: str, env: str, *, scope: str = "events:write") -> tuple[str, ...]:
    return ("keys", "create", "--org", org_id, "--env", env, "--name", "ci", "--scope", scope)


def field_is(key: str, value: Any) -> Callable[[dict[str, Any]], bool]:
    """A log-line predicate: `line[key] == value`."""
    return lambda line: line.get(key) == value


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    """The command succeeded and its stdout is one JSON document and nothing else."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr}"
    return json.loads(result.stdout)


def assert_clean_failure(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Non-zero exit, a message naming the problem, and no Python traceback."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert result.stderr.strip(), "no error message on stderr"
    for text in expected:
        assert text.lower() in result.stderr.lower(), result.stderr


PORT = "{free_port}"  # replaced by a free port when the command runs
SERVE = ("serve", "--host", "127.0.0.1", "--port", PORT)
UNREACHABLE_DB = {"PLAUDIT_DATABASE_URL": f"postgresql://plaudit:s3cr3t-pw@127.0.0.1:{PORT}/x"}


def run_with_port(
    plaudit: Runner, args: tuple[str, ...], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    port = str(free_port())
    return plaudit(
        *(a.replace(PORT, port) for a in args),
        env={k: v.replace(PORT, port) for k, v in (env or {}).items()},
        timeout=20,
    )


# 1. Help ------------------------------------------------------------------------------------


def test_help_lists_every_setting_and_command(plaudit: Runner) -> None:
    result = plaudit("--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout

    settings = describe_settings()
    lines = [line.strip() for line in text.splitlines()]
    for name, default, description in settings:
        line = next((ln for ln in lines if ln.split(" ", 1)[0] == name), None)
        assert line is not None, f"{name} missing from --help"
        if default:
            assert default in line, f"{name}: default {default!r} not shown in {line!r}"
        assert description in text, f"{name}: description {description!r} not shown"
    # Nothing stale either: every PLAUDIT_* the help mentions is a real setting.
    assert set(re.findall(r"\bPLAUDIT_[A-Z0-9_]+\b", text)) == {name for name, _, _ in settings}

    commands = text.split("Commands:", 1)[1]
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s", commands, re.MULTILINE), f"{command} not listed"


def test_python_dash_m_runs_the_same_cli(tmp_path: Path, database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "plaudit", "--version"],
        env=clean_env(database_url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "version" in result.stdout


# 2. Migrate ---------------------------------------------------------------------------------


def test_migrate_creates_an_empty_sqlite_file_and_is_repeatable(
    plaudit: Runner, tmp_path: Path
) -> None:
    path = tmp_path / "fresh" / "plaudit.db"
    path.parent.mkdir()
    env = {"PLAUDIT_DATABASE_URL": f"sqlite:///{path}"}

    first = plaudit("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"database at revision {head_revision()}"
    assert path.is_file()
    assert path.stat().st_size > 0

    second = plaudit("migrate", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == f"database at revision {head_revision()}"


def test_migrate_on_the_session_database(plaudit: Runner) -> None:
    """SQLite, or a fresh PostgreSQL database when PLAUDIT_TEST_DATABASE_URL is set."""
    result = plaudit("migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"database at revision {head_revision()}"


# 3. Organizations ---------------------------------------------------------------------------


def test_orgs_create_json_prints_ids_and_both_keys_and_nothing_else(plaudit: Runner) -> None:
    result = plaudit("orgs", "create", "Acme", "--json")
    created = ok_json(result)  # the whole of stdout parses: no log line leaked into it

    assert set(created) == {"org_id", "name", "environments"}
    assert ORG_ID.match(created["org_id"]), created
    assert created["name"] == "Acme"
    assert set(created["environments"]) == {"production", "staging"}
    for env, pattern in (("production", LIVE_KEY), ("staging", TEST_KEY)):
        entry = created["environments"][env]
        assert set(entry) == {"id", "api_key"}
        assert ENV_ID.match(entry["id"]), entry
        assert pattern.match(entry["api_key"]), entry
    prod, staging = (created["environments"][e] for e in ("production", "staging"))
    assert prod["id"] != staging["id"]

    # Logs go to stderr, as JSON lines, and never carry the keys.
    logs = json_lines(result.stderr)
    assert logs, "expected log lines on stderr"
    assert prod["api_key"] not in result.stderr
    assert staging["api_key"] not in result.stderr


def test_orgs_create_rejects_a_blank_name(plaudit: Runner) -> None:
    assert_clean_failure(plaudit("orgs", "create", "   ", "--json"), "name")


# 4. Keys ------------------------------------------------------------------------------------


def test_keys_create_list_revoke(plaudit: Runner, org: dict[str, Any]) -> None:
    org_id = org["org_id"]
    staging_env = org["environments"]["staging"]["id"]

    created = ok_json(plaudit(*key_create(org_id, "staging"), "--json"))
    assert KEY_ID.match(created["id"]), created
    assert TEST_KEY.match(created["api_key"]), created
    assert created["api_key"].startswith(created["prefix"])
    assert created["organization_id"] == org_id
    assert created["environment"] == "staging"
    assert created["environment_id"] == staging_env
    assert created["name"] == "ci"
    assert created["scopes"] == ["events:write"]
    assert created["revoked_at"] is None

    listing = plaudit("keys", "list", "--org", org_id, "--json")
    keys = ok_json(listing)
    secrets = [created["api_key"], *(e["api_key"] for e in org["environments"].values())]
    for secret in secrets:
        assert secret not in listing.stdout
        assert secret not in listing.stderr
    assert all("api_key" not in key for key in keys)
    by_id = {key["id"]: key for key in keys}
    assert len(by_id) == 3  # the two default keys and ours
    listed = {k: v for k, v in created.items() if k != "api_key"}
    assert by_id[created["id"]] == listed
    assert sorted(key["environment"] for key in keys) == ["production", "staging", "staging"]

    revoked = ok_json(plaudit("keys", "revoke", created["id"], "--json"))
    assert revoked["id"] == created["id"]
    assert revoked["revoked_at"] is not None
    assert "api_key" not in revoked

    staging_keys = ok_json(plaudit("keys", "list", "--org", org_id, "--env", "staging", "--json"))
    assert {key["environment"] for key in staging_keys} == {"staging"}
    states = {key["id"]: key["revoked_at"] for key in staging_keys}
    assert states[created["id"]] == revoked["revoked_at"]
    assert [v for k, v in states.items() if k != created["id"]] == [None]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param((*key_create("org_missing", "staging"), "--json"), "org_missing", id="create"),
        pytest.param(("keys", "list", "--org", "org_missing", "--json"), "org_missing", id="list"),
        pytest.param(("keys", "revoke", "key_missing", "--json"), "key_missing", id="revoke"),
        pytest.param(key_create("org_x", "staging", scope="all"), "all", id="bad-scope"),
    ],
)
def test_key_errors_exit_nonzero_with_a_message(
    plaudit: Runner, args: tuple[str, ...], message: str
) -> None:
    result = plaudit(*args)
    assert_clean_failure(result, message)
    assert result.stdout == ""


# 5. The user journey ------------------------------------------------------------------------


def test_user_journey_publish_list_isolate_revoke(
    plaudit: Runner, org: dict[str, Any], served: ServedFactory
) -> None:
    production = org["environments"]["production"]["api_key"]
    staging = org["environments"]["staging"]["api_key"]

    with served() as server, server.client() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").status_code == 200
        openapi = http.get("/openapi.json")
        assert openapi.status_code == 200
        assert "/api/v1/events" in openapi.json()["paths"]

        published = http.post("/api/v1/events", json=birthday_event(), headers=bearer(production))
        assert published.status_code == 202, published.text
        event = published.json()
        assert event["id"].startswith("evt_")
        assert event["type"] == "milestone.birthday"
        assert event["data"] == birthday_event()["data"]

        listed = http.get("/api/v1/events", headers=bearer(production))
        assert listed.status_code == 200, listed.text
        assert [e["id"] for e in listed.json()["data"]] == [event["id"]]
        assert http.get(f"/api/v1/events/{event['id']}", headers=bearer(production)).json() == (
            event
        )

        # Staging is another environment: it sees none of production's events.
        assert http.get("/api/v1/events", headers=bearer(staging)).json()["data"] == []
        hidden = http.get(f"/api/v1/events/{event['id']}", headers=bearer(staging))
        assert hidden.status_code == 404

        # A narrow key made with the CLI while the server runs: it may publish, not read.
        ci = ok_json(plaudit(*key_create(org["org_id"], "production"), "--json"))
        accepted = http.post("/api/v1/events", json=birthday_event(), headers=bearer(ci["api_key"]))
        assert accepted.status_code == 202, accepted.text
        assert http.get("/api/v1/events", headers=bearer(ci["api_key"])).status_code == 403

        # Revoked through the CLI: the very next request is refused.
        ok_json(plaudit("keys", "revoke", ci["id"], "--json"))
        refused = http.post("/api/v1/events", json=birthday_event(), headers=bearer(ci["api_key"]))
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "revoked_api_key"
        assert refused.headers["www-authenticate"] == "Bearer"

        # Other keys are untouched.
        after = http.get("/api/v1/events", headers=bearer(production))
        assert len(after.json()["data"]) == 2

        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert 'plaudit_http_requests_total{method="POST",route="/api/v1/events",status="202"}' in (
            metrics.text
        )
        assert 'plaudit_events_appended_total{type="milestone.birthday"}' in metrics.text


# 6. Logs ------------------------------------------------------------------------------------


def test_server_logs_are_json_lines_carrying_the_request_id(served: ServedFactory) -> None:
    chosen = f"acceptance-{uuid.uuid4().hex}"
    with served() as server, server.client() as http:
        generated = http.get("/healthz").headers["x-request-id"]
        echoed = http.get("/healthz", headers={"X-Request-Id": chosen}).headers["x-request-id"]
        assert echoed == chosen
        assert generated
        assert generated != chosen

        for request_id in (generated, chosen):
            line = server.wait_for_log(field_is("request_id", request_id))
            assert line["path"] == "/healthz"
            assert line["status"] == 200
            assert line["method"] == "GET"
            assert {"ts", "level", "logger", "msg"} <= set(line)

    # After shutdown, every line the server wrote is JSON (no stray plain-text output).
    logs = server.logs()
    assert any(entry["msg"] == "plaudit started" for entry in logs)
    assert server.stdout == ""


# 7. Graceful shutdown -----------------------------------------------------------------------


def test_sigterm_stops_serve_cleanly_within_the_grace_period(served: ServedFactory) -> None:
    with served() as server:
        begun = time.monotonic()
        code = server.stop(signal.SIGTERM, timeout=SHUTDOWN_GRACE_S + 10)
        elapsed = time.monotonic() - begun
        assert server.wait_for_log(field_is("msg", "plaudit stopped"), timeout=1)
        assert code == 0, f"plaudit serve exited {code} on SIGTERM\n{server.stderr}"
        assert elapsed < SHUTDOWN_GRACE_S + 2, f"took {elapsed:.1f} s to stop"
        assert "Traceback" not in server.stderr


def test_sigterm_stops_worker_cleanly(started: StartedFactory) -> None:
    with started("worker") as worker:
        worker.wait_for_log(field_is("msg", "plaudit started"))
        begun = time.monotonic()
        code = worker.stop(signal.SIGTERM, timeout=SHUTDOWN_GRACE_S + 10)
        elapsed = time.monotonic() - begun
        assert worker.wait_for_log(field_is("msg", "plaudit stopped"), timeout=1)
        assert code == 0, f"plaudit worker exited {code} on SIGTERM\n{worker.stderr}"
        assert elapsed < SHUTDOWN_GRACE_S + 2, f"took {elapsed:.1f} s to stop"
        assert "Traceback" not in worker.stderr


# 8. Bad settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        pytest.param(
            SERVE, {"PLAUDIT_DATABASE_URL": "mysql://x"}, "PLAUDIT_DATABASE_URL", id="mysql-url"
        ),
        pytest.param(
            ("migrate",), {"PLAUDIT_DATABASE_URL": "sqlite://"}, "sqlite", id="migrate-sqlite://"
        ),
        pytest.param(SERVE, {"PLAUDIT_DATABASE_URL": "sqlite://"}, "sqlite", id="serve-sqlite://"),
        # No --port here: it would override the bad PLAUDIT_PORT.
        pytest.param(
            ("serve", "--host", "127.0.0.1"), {"PLAUDIT_PORT": "abc"}, "port", id="port-abc"
        ),
        pytest.param(("migrate",), {"PLAUDIT_LOG_LEVEL": "loud"}, "log_level", id="log-level"),
    ],
)
def test_bad_setting_fails_with_a_clear_message(
    plaudit: Runner, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    assert_clean_failure(run_with_port(plaudit, args, env), message)


def test_bad_database_url_does_not_echo_its_password(plaudit: Runner) -> None:
    result = plaudit("migrate", env={"PLAUDIT_DATABASE_URL": "mysql://plaudit:s3cr3t-pw@db/x"})
    assert_clean_failure(result, "PLAUDIT_DATABASE_URL")
    assert "s3cr3t-pw" not in result.stdout + result.stderr


@pytest.mark.parametrize("args", [("migrate",), ("orgs", "create", "Acme")], ids=" ".join)
def test_unreachable_database_fails_with_a_message_not_a_traceback(
    plaudit: Runner, args: tuple[str, ...]
) -> None:
    result = run_with_port(plaudit, args, UNREACHABLE_DB)
    assert_clean_failure(result)
    assert "s3cr3t-pw" not in result.stdout + result.stderr
