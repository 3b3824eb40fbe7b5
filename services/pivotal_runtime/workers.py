"""Several worker processes per service, on one port (docs/performance.md, "Every core").

`pivotal serve <service>` with `worker_count(settings) > 1` becomes a small supervisor: it
starts that many copies of itself, each a fresh interpreter (no gRPC state crosses a fork),
marked with `PIVOTAL_WORKER_INDEX`. Each worker binds the service's port with SO_REUSEPORT
and the kernel spreads new connections over them. The supervisor forwards SIGTERM/SIGINT to
every worker, waits for them to drain (each within the grace period) and exits 0; when a
worker dies on its own, it stops the others and exits 1, so that the orchestrator restarts
the service as a whole.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from pivotal_runtime.settings import Mode, Settings

log = logging.getLogger("pivotal.workers")
WORKER_INDEX_VARIABLE = "PIVOTAL_WORKER_INDEX"
# Beyond the grace period: time for a worker to stop its bus and exit.
EXIT_MARGIN_SECONDS = 10.0
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1


def worker_count(settings: Settings) -> int:
    """`PIVOTAL_WORKERS`; unset: the CPU count in services/mesh modes, 1 in embedded mode."""
    if settings.workers is not None:
        return settings.workers
    return 1 if settings.mode is Mode.EMBEDDED else (os.cpu_count() or 1)


def runs_bus(settings: Settings) -> bool:
    """Whether this process runs the service's outbox relay and event consumer.

    On PostgreSQL with RabbitMQ every worker does: relays share the outbox through
    `FOR UPDATE SKIP LOCKED` (keeping each aggregate's order), consumers compete on the
    service's queue. Otherwise only the first worker does: SQLite relays would serialize on
    its write lock, and an in-process bus only reaches the process it lives in.
    """
    if settings.worker_index in (None, 0):
        return True
    postgres = bool(settings.database_url and settings.database_url.startswith("postgresql"))
    return postgres and bool(settings.amqp_url)


def _parent_death_signal():
    """A function for `preexec_fn` that makes the worker get SIGTERM if the supervisor itself
    is killed (Linux); resolved here, before any fork, so the child only calls into libc."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Starts `count` workers running `command`, forwards stop signals, reaps them."""

    def __init__(self, command: Sequence[str], count: int, *, grace_seconds: float,
                 env: dict[str, str] | None = None) -> None:
        self._command = list(command)
        self._count = count
        self._deadline_after = grace_seconds + EXIT_MARGIN_SECONDS
        self._env = dict(os.environ if env is None else env)
        self._stop = threading.Event()
        self.workers: list[subprocess.Popen] = []

    def request_stop(self, *_signal: object) -> None:
        self._stop.set()

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.request_stop)
        die_with_parent = _parent_death_signal()
        for index in range(self._count):
            env = {**self._env, WORKER_INDEX_VARIABLE: str(index)}
            self.workers.append(subprocess.Popen(self._command, env=env,
                                                 preexec_fn=die_with_parent))
        log.info("supervisor %d: %d workers (%s)", os.getpid(), self._count,
                 ", ".join(str(w.pid) for w in self.workers))
        failed = self._wait_for_stop_or_failure()
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + self._deadline_after
        while self._running() and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        if self._running():
            log.error("workers still running after the grace period: killed")
            self._signal_all(signal.SIGKILL)
        codes = [worker.wait() for worker in self.workers]
        log.info("supervisor %d: workers exited with %s", os.getpid(), codes)
        return 1 if failed or any(codes) else 0

    def _wait_for_stop_or_failure(self) -> bool:
        while not self._stop.wait(POLL_SECONDS):
            for worker in self.workers:
                if worker.poll() is not None:
                    log.error("worker %d exited with %s; stopping the others",
                              worker.pid, worker.returncode)
                    return True
        return False

    def _running(self) -> list[subprocess.Popen]:
        return [worker for worker in self.workers if worker.poll() is None]

    def _signal_all(self, signum: int) -> None:
        for worker in self._running():
            with contextlib.suppress(ProcessLookupError):
                worker.send_signal(signum)


def supervise(settings: Settings, arguments: Sequence[str]) -> int:
    """Runs `pivotal <arguments>` in `worker_count(settings)` worker processes."""
    command = [sys.executable, "-m", "pivotal_runtime.cli", *arguments]
    return Supervisor(command, worker_count(settings),
                      grace_seconds=settings.grace_period_seconds).run()


def explain_single_process(settings: Settings) -> None:
    """`pivotal up` runs in one process; says why when the machine has more cores."""
    cores = os.cpu_count() or 1
    if settings.workers not in (None, 1):
        log.warning("PIVOTAL_WORKERS=%d is ignored by `pivotal up`", settings.workers)
    if cores > 1 or settings.workers not in (None, 1):
        log.info("pivotal up serves the five services in one process, on one of the %d cores: "
                 "they share one in-process event bus (and SQLite files in embedded mode), "
                 "which several processes could not share; to use every core, run each service "
                 "with `pivotal serve <service>` in services mode (PIVOTAL_WORKERS processes "
                 "each, RabbitMQ as the bus)", cores)
