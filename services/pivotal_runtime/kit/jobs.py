"""Periodic jobs (quote expiry, trial end, renewals, purges) run by exactly one replica.

A job is due when it never ran or ran `every` ago. `JobRunner.run_due(now)` runs the due jobs
once each: per job it takes a lock (PostgreSQL `pg_try_advisory_lock`, skipped when another
replica holds it; on SQLite, one process owns the file, a process lock), reads the job's last
run from `job_runs`, runs it and records `now`, all under the lock; so two replicas never run
a job twice for one period. Tests call `run_due(now)` with the time they want; in production
`start()` runs it from a background thread every `tick` seconds.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from pivotal_runtime.kit.repository import insert_for
from pivotal_runtime.kit.tables import job_runs

if TYPE_CHECKING:
    from pivotal_runtime.db import Database

log = logging.getLogger("pivotal.jobs")
# One lock per (service, job) in this process: on SQLite the process is the only replica,
# and two runners in it (tests, several hosts of `pivotal up`) still run a job once.
_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(service: str, job: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(f"{service}:{job}", threading.Lock())


@dataclass(frozen=True)
class Job:
    """`run(now)` does one pass (in its own units of work); it runs at most once per `every`."""

    name: str
    every: timedelta
    run: Callable[[datetime], None]


def lock_key(service: str, job: str) -> int:
    digest = hashlib.blake2b(f"pivotal.job:{service}:{job}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class JobRunner:
    def __init__(self, database: Database, jobs: Sequence[Job], *,
                 clock: Callable[[], datetime], tick: float = 30.0) -> None:
        self._database = database
        self.jobs = list(jobs)
        self._clock = clock
        self._tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self, now: datetime) -> list[str]:
        """Runs every job that is due at `now` and whose lock this runner got; returns their
        names. A failing job is logged and retried at the next tick."""
        ran = []
        for job in self.jobs:
            with self._locked(job) as owned:
                if not owned or not self._due(job, now):
                    continue
                try:
                    job.run(now)
                except Exception:
                    log.exception("job %s failed", job.name)
                    continue
                self._record(job, now)
                ran.append(job.name)
        return ran

    @contextmanager
    def _locked(self, job: Job) -> Iterator[bool]:
        if not self._database.is_postgres:
            local = _process_lock(self._database.service, job.name)
            owned = local.acquire(blocking=False)
            try:
                yield owned
            finally:
                if owned:
                    local.release()
            return
        # A session-level advisory lock on a connection of its own: another replica (or
        # another runner of this process) gets False at once.
        key = lock_key(self._database.service, job.name)
        with self._database.engine.connect() as connection:
            owned = bool(connection.execute(sa.select(sa.func.pg_try_advisory_lock(key))
                                            ).scalar_one())
            connection.commit()
            try:
                yield owned
            finally:
                if owned:
                    connection.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    connection.commit()

    def _due(self, job: Job, now: datetime) -> bool:
        with self._database.engine.connect() as connection:
            last = connection.execute(sa.select(job_runs.c.last_run_time).where(
                job_runs.c.job == job.name)).scalar_one_or_none()
        return last is None or last + job.every <= now

    def _record(self, job: Job, now: datetime) -> None:
        with self._database.engine.begin() as connection:
            insert = insert_for(connection)
            connection.execute(insert(job_runs).values(job=job.name, last_run_time=now)
                               .on_conflict_do_update(index_elements=["job"],
                                                      set_={"last_run_time": now}))

    def start(self) -> None:
        if not self.jobs or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.run_due(self._clock())
            except Exception:
                log.exception("job runner pass failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
