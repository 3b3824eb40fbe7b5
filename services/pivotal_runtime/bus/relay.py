"""The outbox relay: publishes committed outbox rows, in id order, and marks them published.

One pass claims up to `batch_size` unpublished rows in a transaction (`FOR UPDATE SKIP LOCKED`
on PostgreSQL, so relays of several replicas share the work without publishing a row twice at
the same time), publishes them with publisher confirms, and marks them published in the same
transaction. A batch that is not fully confirmed stays unpublished and is sent again: delivery
is at least once, and consumers drop duplicates through their inbox.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Row,
    all_,
    any_,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.bus.envelope import BusMessage, message_from_outbox
from pivotal_runtime.bus.link import Link
from pivotal_runtime.bus.metrics import (
    CONFIRMED,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_UNSENT_AGE,
    OUTBOX_PURGED,
    PUBLISH_FAILURES,
    PUBLISHED,
)
from pivotal_runtime.bus.tracing import end_producer_spans, start_producer_span
from pivotal_runtime.db import Database
from pivotal_runtime.outbox import outbox

log = logging.getLogger("pivotal.bus.relay")
PURGE_CHUNK = 5_000
BACKLOG_REFRESH_SECONDS = 1.0
FINAL_PASS_SECONDS = 2.0


class PublishError(RuntimeError):
    """The broker did not confirm every message of a batch."""


class Publisher(Protocol):
    link: Link

    @property
    def exchange(self) -> str: ...

    def publish(self, messages: Sequence[BusMessage]) -> None:
        """Returns once the broker confirmed every message; raises PublishError otherwise."""

    def wait_ready(self, timeout: float) -> bool: ...


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        publisher: Publisher,
        *,
        service: str,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        retention: timedelta = timedelta(days=7),
        purge_interval: float = 300.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._database = database
        self._publisher = publisher
        self.service = service
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._purge_interval = purge_interval
        self._backoff = backoff or Backoff(initial=0.1, maximum=5.0)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_purge = 0.0
        self._next_backlog = 0.0
        self._published = PUBLISHED.labels(service=service)
        self._confirmed = CONFIRMED.labels(service=service)
        self._failures = PUBLISH_FAILURES.labels(service=service)
        database.outbox_listeners.append(self.wake)

    def wake(self) -> None:
        """Asks for a pass now (called after a unit of work commits events)."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{self.service}-relay",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> int:
        """One pass: claim, publish, mark. Returns how many rows it published."""
        with self._database.engine.begin() as connection:
            rows = self._claim(connection)
            if not rows:
                return 0
            error = self._publish(rows)
            claimed = self._id_among([row.id for row in rows])
            if error is None:
                connection.execute(update(outbox).where(claimed)
                                   .values(published_at=datetime.now(UTC), last_error=None))
            else:
                connection.execute(update(outbox).where(claimed).values(
                    attempts=outbox.c.attempts + 1, last_error=str(error)[:1000]))
        if error is not None:
            raise error
        return len(rows)

    def drain(self) -> int:
        """Passes until the outbox has nothing left to publish; returns the total."""
        total = 0
        while published := self.run_once():
            total += published
        return total

    def purge(self, now: datetime | None = None) -> int:
        """Deletes rows published more than the retention period ago; returns how many."""
        cutoff = (now or datetime.now(UTC)) - self._retention
        total = 0
        while True:
            oldest = (select(outbox.c.id).where(outbox.c.published_at < cutoff)
                      .order_by(outbox.c.id).limit(PURGE_CHUNK))
            with self._database.engine.begin() as connection:
                deleted = connection.execute(
                    delete(outbox).where(outbox.c.id.in_(oldest.scalar_subquery()))
                ).rowcount
            total += deleted
            if deleted < PURGE_CHUNK:
                break
        if total:
            OUTBOX_PURGED.labels(service=self.service).inc(total)
            log.info("%s outbox: purged %d published rows", self.service, total)
        return total

    def backlog(self) -> tuple[int, float]:
        """Unpublished rows and the age in seconds of the oldest one; updates the gauges."""
        unsent = outbox.c.published_at.is_(None)
        with self._database.engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(outbox).where(unsent))
            count = int(count.scalar_one())
            oldest = connection.execute(
                select(outbox.c.occurred_at).where(unsent).order_by(outbox.c.id).limit(1)
            ).scalar()
        age = max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0
        OUTBOX_BACKLOG.labels(service=self.service).set(count)
        OUTBOX_OLDEST_UNSENT_AGE.labels(service=self.service).set(age)
        return count, age

    def _id_among(self, ids: list[int]) -> ColumnElement[bool]:
        if self._database.is_postgres:
            # One array parameter instead of one per id: the statement stays cached.
            return outbox.c.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))
        return outbox.c.id.in_(ids)

    def _claim(self, connection: Connection) -> list[Row[Any]]:
        statement = (select(outbox).where(outbox.c.published_at.is_(None))
                     .order_by(outbox.c.id).limit(self._batch_size))
        if not self._database.is_postgres:
            # SQLite: the transaction already holds the database's write lock (BEGIN IMMEDIATE).
            return list(connection.execute(statement))
        rows = list(connection.execute(statement.with_for_update(skip_locked=True)))
        return _without_blocked_aggregates(connection, rows) if rows else rows

    def _publish(self, rows: list[Row[Any]]) -> PublishError | None:
        spans, messages = [], []
        for row in rows:
            span, traceparent = start_producer_span(
                row.event_type, row.event_id, self._publisher.exchange, row.traceparent)
            spans.append(span)
            messages.append(message_from_outbox(row, self.service, traceparent))
        self._published.inc(len(messages))
        try:
            self._publisher.publish(messages)
        except PublishError as error:
            self._failures.inc()
            end_producer_spans(spans, error)
            return error
        self._confirmed.inc(len(messages))
        end_producer_spans(spans)
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                published = self.run_once()
            except Exception as error:  # noqa: BLE001 - the relay thread must survive anything
                log.warning("%s outbox relay: %s", self.service, error)
                if not self._publisher.link.up:
                    while not self._stop.is_set() and not self._publisher.wait_ready(0.5):
                        pass
                elif self._backoff.wait(self._stop):
                    break
                continue
            self._backoff.reset()
            self._housekeep()
            if published < self._batch_size:
                self._wake.wait(self._poll_interval)
        self._final_pass()

    def _housekeep(self) -> None:
        now = time.monotonic()
        try:
            if now >= self._next_backlog:
                self._next_backlog = now + BACKLOG_REFRESH_SECONDS
                self.backlog()
            if now >= self._next_purge:
                self._next_purge = now + self._purge_interval
                self.purge()
        except Exception as error:  # noqa: BLE001 - housekeeping retries at its next turn
            log.warning("%s outbox housekeeping: %s", self.service, error)

    def _final_pass(self) -> None:
        """On stop, publishes what the last calls committed, if the broker is there."""
        deadline = time.monotonic() + FINAL_PASS_SECONDS
        try:
            while self._publisher.link.up and time.monotonic() < deadline:
                if self.run_once() < self._batch_size:
                    break
        except Exception as error:  # noqa: BLE001 - rows stay in the outbox for the next start
            log.info("%s outbox relay stopped with rows left for the next start: %s",
                     self.service, error)


def _without_blocked_aggregates(connection: Connection, rows: list[Row[Any]]) -> list[Row[Any]]:
    """Drops claimed rows whose aggregate has an earlier unpublished row outside this claim.

    Such a row is locked by another relay that is publishing it now; publishing a later event
    of the same aggregate meanwhile could overtake it.
    """
    claimed = [row.id for row in rows]
    others = select(outbox.c.id, outbox.c.aggregate_type, outbox.c.aggregate_id).where(
        outbox.c.published_at.is_(None),
        outbox.c.id < max(claimed),
        outbox.c.id != all_(bindparam("claimed", claimed, type_=ARRAY(BigInteger))),
    )
    blocked: dict[tuple[str, str], int] = {}
    for other, kind, key in connection.execute(others):
        if other < blocked.get((kind, key), other + 1):
            blocked[(kind, key)] = other
    if not blocked:
        return rows
    return [row for row in rows
            if row.id < blocked.get((row.aggregate_type, row.aggregate_id), row.id + 1)]
