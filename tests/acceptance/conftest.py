"""Run the real `plaudit` command in subprocesses, the way an operator does.

Every process gets a clean environment (no inherited `PLAUDIT_*` variables) with
`PLAUDIT_DATABASE_URL` pointing at the session's real database, runs in the test's
tmp directory (so a stray default `./plaudit.db` never lands in the repository),
and is killed in a `finally` block. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

PLAUDIT = Path(sys.executable).parent / "plaudit"
CLI_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0
# Short enough that a hung shutdown fails the test quickly, long enough for a clean stop.
SHUTDOWN_GRACE_S = 5


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAUDIT_")}
    env["PLAUDIT_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    # The session database holds rows other tests made with clocks months in the past: a
    # process started here must not delete them by age (retention has tests of its own).
    env["PLAUDIT_RETENTION_DAYS"] = "0"
    env.update(extra or {})
    return env


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every complete line of `text` parsed as a JSON object (fails on any other line)."""
    complete = text if text.endswith("\n") else text.rpartition("\n")[0]
    parsed = []
    for line in complete.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"log line is not JSON: {line!r}")
        assert isinstance(value, dict), line
        parsed.append(value)
    return parsed


class Runner(Protocol):
    def __call__(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = CLI_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def plaudit(database_url: str, tmp_path: Path) -> Runner:
    """`plaudit(*args, env={...})`: run the CLI to completion; `env` adds or overrides."""

    def run(
        *args: str, env: Mapping[str, str] | None = None, timeout: float = CLI_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PLAUDIT), *args],
            env=clean_env(database_url, env),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def create_org(plaudit: Runner) -> Callable[[str], dict[str, Any]]:
    def create(name: str = "Acme") -> dict[str, Any]:
        result = plaudit("orgs", "create", name, "--json")
        assert result.returncode == 0, result.stderr
        created: dict[str, Any] = json.loads(result.stdout)
        return created

    return create


@pytest.fixture
def org(create_org: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """A fresh organization made through the CLI: isolates the test on the shared database."""
    return create_org("Acme")


@dataclass
class Proc:
    """A long-running `plaudit` process whose stdout and stderr go to files."""

    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def logs(self) -> list[dict[str, Any]]:
        return json_lines(self.stderr)

    def wait_for_log(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = READY_TIMEOUT_S
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.logs():
                if match(line):
                    return line
            if time.monotonic() > deadline:
                pytest.fail(f"no matching log line within {timeout} s; stderr:\n{self.stderr}")
            if self.process.poll() is not None:
                # One last look: the line may have been written just before exiting.
                for line in self.logs():
                    if match(line):
                        return line
                pytest.fail(f"exited {self.process.returncode}; stderr:\n{self.stderr}")
            time.sleep(0.05)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send `sig` and wait (bounded) for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@contextmanager
def spawn(
    args: list[str], *, env: dict[str, str], cwd: Path, name: str = "plaudit"
) -> Iterator[Proc]:
    stdout_path = cwd / f"{name}.stdout"
    stderr_path = cwd / f"{name}.stderr"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen([str(PLAUDIT), *args], env=env, cwd=cwd, stdout=out, stderr=err)
    try:
        yield Proc(process, stdout_path, stderr_path)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)


@dataclass
class Served(Proc):
    base_url: str = ""

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10.0)


def _settings_env(settings: Mapping[str, Any]) -> dict[str, str]:
    return {f"PLAUDIT_{k.upper()}": str(v) for k, v in settings.items()}


class ServedFactory(Protocol):
    def __call__(self, **settings: Any) -> AbstractContextManager[Served]: ...


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> ServedFactory:
    """`with served(**settings) as server:` runs `plaudit serve` until /readyz answers 200.

    Keyword arguments become `PLAUDIT_<NAME>` variables (e.g. `shutdown_grace_s=5`).
    """

    @contextmanager
    def serve(**settings: Any) -> Iterator[Served]:
        port = free_port()
        env = clean_env(
            database_url, _settings_env({"shutdown_grace_s": SHUTDOWN_GRACE_S, **settings})
        )
        args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
        with spawn(args, env=env, cwd=tmp_path, name=f"serve-{port}") as proc:
            server = Served(
                proc.process, proc.stdout_path, proc.stderr_path, f"http://127.0.0.1:{port}"
            )
            _wait_ready(server)
            yield server

    return serve


def _wait_ready(server: Served) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=server.base_url, timeout=2.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(
                    f"plaudit serve exited {server.process.returncode} before it was ready:\n"
                    f"{server.stderr}"
                )
            try:
                if http.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    pytest.fail(f"plaudit serve not ready within {READY_TIMEOUT_S} s:\n{server.stderr}")


class StartedFactory(Protocol):
    def __call__(self, *args: str, **settings: Any) -> AbstractContextManager[Proc]: ...


@pytest.fixture
def started(database_url: str, tmp_path: Path) -> StartedFactory:
    """`with started("worker", **settings) as proc:` runs any long-lived command."""

    def start(*args: str, **settings: Any) -> AbstractContextManager[Proc]:
        env = clean_env(
            database_url, _settings_env({"shutdown_grace_s": SHUTDOWN_GRACE_S, **settings})
        )
        return spawn(list(args), env=env, cwd=tmp_path, name="-".join(args))

    return start
