"""What the benchmarks need to run Plaudit as its own process and account for its CPU."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import NamedTuple


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plaudit_command() -> str:
    return str(Path(sys.executable).parent / "plaudit")


class ProcessClock(NamedTuple):
    """A process's CPU time and run-queue wait, summed over its threads (Linux /proc)."""

    cpu_s: float
    waiting_s: float

    @classmethod
    def read(cls, pid: int) -> ProcessClock:
        cpu = waiting = 0
        for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                ran_ns, waited_ns, _ = stat.read_text().split()
            except OSError:  # the thread ended meanwhile
                continue
            cpu += int(ran_ns)
            waiting += int(waited_ns)
        return cls(cpu / 1e9, waiting / 1e9)

    def since(self, earlier: ProcessClock) -> ProcessClock:
        return ProcessClock(self.cpu_s - earlier.cpu_s, self.waiting_s - earlier.waiting_s)
