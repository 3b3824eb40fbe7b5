"""What one measured run gives: throughput, latency percentiles, the CPU the server
processes spent per call, their memory, and the load generator's own CPU (from /proc)."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a supervisor and its workers, uvicorn and its workers)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                pending += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_megabytes(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_cpu_seconds() -> float:
    """CPU of the finished child processes (the load generator, once it was waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Sample:
    """One scenario's runs, pooled over the rounds."""

    calls: int = 0
    failed: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    loader_cpu: float = 0.0
    wall: float = 0.0
    rss: list[float] = field(default_factory=list)
    processes: int = 0
    latencies_us: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_us)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000 if ordered else 0.0

    @property
    def cpu_ms_per_call(self) -> float:
        return self.server_cpu * 1000 / self.calls if self.calls else 0.0

    @property
    def loader_cpu_percent(self) -> float:
        return self.loader_cpu * 100 / self.wall if self.wall else 0.0

    @property
    def rss_per_process(self) -> float:
        return sum(self.rss) / len(self.rss) if self.rss else 0.0
