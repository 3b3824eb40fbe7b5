"""The kit's tables on real PostgreSQL and SQLite: numbering and jobs (migrated schemas)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from pivotal_runtime.db import open_database
from pivotal_runtime.kit.jobs import Job, JobRunner
from pivotal_runtime.migrations import upgrade

SERVICE = "quotation"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def database(request):
    settings = request.getfixturevalue(f"{request.param}_settings")
    upgrade(settings, SERVICE)
    database = open_database(settings, SERVICE)
    yield database
    database.dispose()


def number_once(database, fail: bool = False) -> int:
    with database.unit_of_work() as uow:
        number = uow.numbers.next("org-1", "Q", 2026)
        if fail:
            return number  # left without commit: rolled back
        uow.commit()
        return number


def test_concurrent_numbering_is_gap_free_and_a_rollback_leaves_no_gap(database):
    number_once(database, fail=True)
    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(lambda _: number_once(database), range(40)))
    assert sorted(numbers) == list(range(1, 41))
    with database.unit_of_work() as uow:
        assert uow.numbers.next_formatted("org-1", "Q", 2026) == "Q-2026-0041"
        assert uow.numbers.next_formatted("org-2", "Q", 2026) == "Q-2026-0001"
        assert uow.numbers.next_formatted("org-1", "INV", 2027) == "INV-2027-0001"


def test_a_due_job_runs_once_across_two_runners_and_not_again_before_its_period(database):
    runs: list[datetime] = []
    started, release = threading.Event(), threading.Event()

    def expire_quotes(now: datetime) -> None:
        runs.append(now)
        started.set()
        release.wait(10)

    job = Job("expire-quotes", timedelta(hours=1), expire_quotes)
    first = JobRunner(database, [job], clock=lambda: NOW)
    second = JobRunner(database, [job], clock=lambda: NOW)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(first.run_due, NOW)
        assert started.wait(10)
        assert second.run_due(NOW) == []  # the other replica holds the lock
        release.set()
        assert running.result(10) == ["expire-quotes"]
    assert second.run_due(NOW + timedelta(minutes=30)) == []  # ran less than an hour ago
    assert second.run_due(NOW + timedelta(hours=1)) == ["expire-quotes"]
    assert runs == [NOW, NOW + timedelta(hours=1)]
