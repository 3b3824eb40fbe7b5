"""The unit of work: one transaction holding a service's state changes and its outbox events.

    with database.unit_of_work() as uow:
        uow.session.add(quote)
        uow.add_event(QuoteCreated(...), aggregate_id=quote.id, organization_id=quote.org_id)
        uow.commit()

Leaving the block without `commit()` rolls everything back, events included.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from google.protobuf.message import Message
from pivotal.options.v1 import options_pb2
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pivotal_runtime.context import current_request_id
from pivotal_runtime.kit.idempotency import IdempotentRequests
from pivotal_runtime.kit.numbering import NumberSeries
from pivotal_runtime.outbox import inbox, outbox
from pivotal_runtime.telemetry import current_traceparent


class Database(Protocol):
    """What a unit of work needs of `pivotal_runtime.db.Database` (which builds it: uow.py
    does not import db.py, so the two form no cycle)."""

    is_postgres: bool
    outbox_listeners: list[Callable[[], None]]

    def sessionmaker(self, **kw: Any) -> Session: ...


log = logging.getLogger(__name__)

_INBOX_MANY_POSTGRES = text(
    "INSERT INTO inbox (consumer, event_id, event_type, processed_at)"
    " SELECT :consumer, e.event_id, e.event_type, :now"
    " FROM unnest(CAST(:ids AS varchar[]), CAST(:types AS varchar[])) AS e(event_id, event_type)"
    " ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
)


def aggregate_type_of(message: Message) -> str:
    """The `(pivotal.options.v1.event).aggregate` option of an event message, or ""."""
    return str(message.DESCRIPTOR.GetOptions().Extensions[options_pb2.event].aggregate)


class UnitOfWork:
    def __init__(self, database: Database, *, read_only: bool = False):
        self._database = database
        self.read_only = read_only  # no write lock taken; db.py reads session.info
        self._session: Session | None = None
        self._events: list[dict[str, Any]] = []
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> Self:
        self._session = self._database.sessionmaker(info={"read_only": self.read_only})
        self.bind(self._session)
        return self

    def bind(self, session: Session) -> None:
        """Binds the repositories to the new session. A domain's unit of work extends it
        (calling `super().bind(session)`) with its own repositories."""
        self.requests = IdempotentRequests(session)
        self.numbers = NumberSeries(session)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self.session.close()
            self._session = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("use the unit of work in a `with` block")
        return self._session

    def add_event(
        self,
        message: Message,
        *,
        aggregate_id: str,
        organization_id: str,
        subject: str | None = None,
        aggregate_type: str | None = None,
    ) -> str:
        """Stages `message` for the outbox; it is written by `commit()`. Returns the event id."""
        kind = aggregate_type or aggregate_type_of(message)
        if not kind:
            raise ValueError(
                f"{message.DESCRIPTOR.full_name} declares no (pivotal.options.v1.event).aggregate"
                " option: pass aggregate_type"
            )
        event_id = str(uuid.uuid4())
        self._events.append(
            {
                "event_id": event_id,
                "event_type": message.DESCRIPTOR.full_name,
                "aggregate_type": kind,
                "aggregate_id": aggregate_id,
                "subject": subject or aggregate_id,
                "organization_id": organization_id,
                "payload": message.SerializeToString(),
                "occurred_at": datetime.now(UTC),
                "traceparent": current_traceparent(),
                "request_id": current_request_id(),
                "attempts": 0,
            }
        )
        return event_id

    def record_inbox(self, consumer: str, event_id: str, event_type: str) -> bool:
        """Marks `event_id` processed by `consumer` in this transaction.

        False when it already was, including by a concurrent transaction that committed first
        (the insert waits for it on the primary key, then does nothing).
        """
        insert = postgresql.insert if self._database.is_postgres else sqlite.insert
        statement = (
            insert(inbox)
            .values(
                consumer=consumer,
                event_id=event_id,
                event_type=event_type,
                processed_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
            .returning(inbox.c.event_id)
        )
        return self.session.execute(statement).first() is not None

    def record_inbox_many(self, consumer: str, events: list[tuple[str, str]]) -> set[str]:
        """`record_inbox` for several `(event_id, event_type)` in one statement; returns the
        ids that were not processed yet."""
        if not events:
            return set()
        now = datetime.now(UTC)
        if self._database.is_postgres:
            # One statement with two array parameters: no per-row work on the client.
            ids, types = zip(*events, strict=True)
            result = self.session.execute(_INBOX_MANY_POSTGRES, {
                "consumer": consumer, "ids": list(ids), "types": list(types), "now": now})
        else:
            statement = (
                sqlite.insert(inbox)
                .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
                .returning(inbox.c.event_id)
            )
            result = self.session.execute(statement, [
                {"consumer": consumer, "event_id": event_id, "event_type": event_type,
                 "processed_at": now}
                for event_id, event_type in events
            ])
        return set(result.scalars())

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A block whose changes, staged events included, are undone alone if it raises."""
        staged, callbacks = len(self._events), len(self._after_commit)
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            del self._events[staged:]
            del self._after_commit[callbacks:]
            raise

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Runs `callback` once the next `commit()` succeeds; dropped on rollback."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        # State is flushed first so that the outbox ids are drawn while the aggregate rows are
        # locked: events of one aggregate then get ids in their commit order.
        self.session.flush()
        wrote_events = bool(self._events)
        if wrote_events:
            self.session.execute(outbox.insert(), self._events)
        self.session.commit()
        self._events.clear()
        if wrote_events:
            for listener in self._database.outbox_listeners:
                listener()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")

    def rollback(self) -> None:
        self._events.clear()
        self._after_commit.clear()
        self.session.rollback()
