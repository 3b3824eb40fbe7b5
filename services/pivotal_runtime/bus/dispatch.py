"""Turns delivered messages into handler calls, whatever broker delivered them.

A batch of deliveries is handled in one unit of work: one statement records the batch's event
ids in the inbox (skipping those already there: a redelivered event changes nothing), the
handlers run, one commit. When a handler fails, the batch is rolled back and handled again
with each event and its inbox row in a savepoint of its own, so the failing event does not
undo the others. The broker-specific consumer acknowledges only after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.exc import InterfaceError, OperationalError

from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.bus.envelope import (
    BusMessage,
    Envelope,
    UndecodableMessage,
    decode_event,
    envelope_of,
)
from pivotal_runtime.bus.metrics import (
    CONSUME_LAG,
    CONSUMED,
    DEAD_LETTERED,
    DUPLICATES,
    RETRIED,
)
from pivotal_runtime.bus.tracing import consumer_span
from pivotal_runtime.context import bind_request_id, reset_request_id
from pivotal_runtime.db import Database
from pivotal_runtime.uow import UnitOfWork

log = logging.getLogger("pivotal.bus.consumer")

Handler = Callable[..., None]


@dataclass(frozen=True)
class Subscription:
    """`handler(uow, event, envelope)` runs for every `event` message the service receives.

    `uow` is the domain's unit of work (its repositories included). The handler changes state
    through it (and may stage events with `uow.add_event`); it never commits: the consumer
    does, with the event's inbox row in the same transaction.

    `prepare(event, envelope)`, when given, runs first, outside any transaction (a remote
    call must not hold database locks); the handler then gets its result:
    `handler(uow, event, envelope, prepared)`. It may run again when the event is retried.
    """

    event: type[Message]
    handler: Handler
    prepare: Callable[[Any, Envelope], Any] | None = None

    @property
    def event_type(self) -> str:
        return self.event.DESCRIPTOR.full_name


class EventRejected(Exception):
    """Raised by a handler for an event it can never process: dead-lettered without retries."""


@dataclass(frozen=True)
class Delivery:
    message: BusMessage
    delivery_count: int = 0
    redelivered: bool = False
    tag: Any = None


@dataclass(frozen=True)
class Ack:
    duplicate: bool = False


@dataclass(frozen=True)
class Retry:
    delay: float
    error: str


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    error: str


Outcome = Ack | Retry | DeadLetter


class BatchNotCommitted(RuntimeError):
    """The database failed the batch as a whole; nothing took effect, handle it again later."""


_INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError)
Work = tuple[int, Envelope, Message, Subscription]


class _Prepared:
    """Results of the subscriptions' `prepare` steps, by event id, taken before the
    transaction and reused if the batch is handled again."""

    def __init__(self) -> None:
        self._results: dict[str, Any] = {}

    def run(self, envelope: Envelope, event: Message, subscription: Subscription) -> None:
        if subscription.prepare is not None and envelope.id not in self._results:
            self._results[envelope.id] = subscription.prepare(event, envelope)

    def call(self, subscription: Subscription, uow: Any, event: Message,
             envelope: Envelope) -> None:
        if subscription.prepare is None:
            subscription.handler(uow, event, envelope)
        else:
            subscription.handler(uow, event, envelope, self._results[envelope.id])


class Dispatcher:
    def __init__(self, consumer: str, database: Database, subscriptions: Sequence[Subscription],
                 *, delivery_limit: int = 10, retry: Backoff | None = None,
                 unit_of_work: Callable[[], UnitOfWork] | None = None) -> None:
        self.consumer = consumer
        self._database = database
        self._unit_of_work = unit_of_work or database.unit_of_work
        self._subscriptions = {s.event_type: s for s in subscriptions}
        if len(self._subscriptions) != len(subscriptions):
            raise ValueError(f"{consumer}: two subscriptions for the same event type")
        self._delivery_limit = delivery_limit
        self._retry = retry or Backoff(initial=1.0, maximum=60.0)

    @property
    def event_types(self) -> list[str]:
        return sorted(self._subscriptions)

    def process(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Outcome of each delivery, in order; raises BatchNotCommitted when nothing committed."""
        outcomes: list[Outcome | None] = [None] * len(deliveries)
        work: list[Work] = []
        for index, delivery in enumerate(deliveries):
            try:
                envelope = envelope_of(delivery.message, delivery.delivery_count)
                subscription = self._subscriptions.get(envelope.type)
                if subscription is None:
                    outcomes[index] = DeadLetter(
                        "unhandled-type", f"{self.consumer} has no handler for {envelope.type}")
                    continue
                event = decode_event(subscription.event, delivery.message.body)
            except UndecodableMessage as error:
                outcomes[index] = DeadLetter("undecodable", str(error))
                continue
            work.append((index, envelope, event, subscription))
        if work:
            self._handle(work, deliveries, outcomes)
        settled = [outcome for outcome in outcomes if outcome is not None]
        self._count(settled, deliveries, work)
        return settled

    def _handle(self, work: list[Work], deliveries: Sequence[Delivery],
                outcomes: list[Outcome | None]) -> None:
        prepared, ready = _Prepared(), []
        for item in work:
            index, envelope, event, subscription = item
            try:
                prepared.run(envelope, event, subscription)
                ready.append(item)
            except EventRejected as error:
                outcomes[index] = DeadLetter("rejected", str(error))
            except Exception as error:  # noqa: BLE001 - a failed prepare step is the event's outcome
                outcomes[index] = self._failure(deliveries[index], error)
        if ready:
            self._handle_prepared(ready, deliveries, outcomes, prepared)

    def _handle_prepared(self, work: list[Work], deliveries: Sequence[Delivery],
                         outcomes: list[Outcome | None], prepared: _Prepared) -> None:
        try:
            self._handle_together(work, outcomes, prepared)
        except _INFRASTRUCTURE_ERRORS as error:
            raise BatchNotCommitted(f"{type(error).__name__}: {error}") from error
        except Exception:  # noqa: BLE001 - any handler error: retry the events one by one
            # Some event failed, or the commit refused something: the whole batch rolled
            # back; handle it again with each event in its own savepoint to find out which.
            self._handle_isolated(work, deliveries, outcomes, prepared)

    def _handle_isolated(self, work: list[Work], deliveries: Sequence[Delivery],
                         outcomes: list[Outcome | None], prepared: _Prepared) -> None:
        try:
            with self._unit_of_work() as uow:
                for index, envelope, event, subscription in work:
                    outcomes[index] = self._handle_one(uow, envelope, event, subscription,
                                                       deliveries[index], prepared)
                uow.commit()
        except _INFRASTRUCTURE_ERRORS as error:
            raise BatchNotCommitted(f"{type(error).__name__}: {error}") from error
        except Exception as error:  # noqa: BLE001 - a handler's error is the event's outcome
            if len(work) == 1:
                index = work[0][0]
                outcomes[index] = self._failure(deliveries[index], error)
                return
            for item in work:
                self._handle_isolated([item], deliveries, outcomes, prepared)

    def _handle_together(self, work: list[Work], outcomes: list[Outcome | None],
                         prepared: _Prepared) -> None:
        """The common case: every handler succeeds, one inbox insert, one commit."""
        with self._unit_of_work() as uow:
            fresh = uow.record_inbox_many(
                self.consumer, [(envelope.id, envelope.type) for _, envelope, _, _ in work])
            for index, envelope, event, subscription in work:
                if envelope.id not in fresh:
                    outcomes[index] = Ack(duplicate=True)
                    continue
                fresh.discard(envelope.id)
                token = bind_request_id(envelope.request_id)
                try:
                    with consumer_span(envelope, self.consumer):
                        prepared.call(subscription, uow, event, envelope)
                finally:
                    reset_request_id(token)
                outcomes[index] = Ack()
            uow.commit()

    def _handle_one(self, uow: UnitOfWork, envelope: Envelope, event: Message,
                    subscription: Subscription, delivery: Delivery, prepared: _Prepared
                    ) -> Outcome:
        token = bind_request_id(envelope.request_id)
        try:
            with consumer_span(envelope, self.consumer), uow.savepoint():
                if not uow.record_inbox(self.consumer, envelope.id, envelope.type):
                    return Ack(duplicate=True)
                prepared.call(subscription, uow, event, envelope)
            return Ack()
        except _INFRASTRUCTURE_ERRORS:
            raise
        except EventRejected as error:
            return DeadLetter("rejected", str(error))
        except Exception as error:  # noqa: BLE001 - any handler error: retried, then dead-lettered
            log.warning("%s: %s %s failed (attempt %d of %d): %r", self.consumer, envelope.type,
                        envelope.id, delivery.delivery_count + 1, self._delivery_limit, error)
            return self._failure(delivery, error)
        finally:
            reset_request_id(token)

    def _failure(self, delivery: Delivery, error: BaseException) -> Outcome:
        attempts = delivery.delivery_count + 1
        text = f"{type(error).__name__}: {error}"
        if attempts >= self._delivery_limit:
            return DeadLetter("handler-failed", text)
        return Retry(self._retry.delay_for(attempts), text)

    def _count(self, outcomes: list[Outcome], deliveries: Sequence[Delivery],
               work: list[Work]) -> None:
        envelopes = {index: envelope for index, envelope, _, _ in work}
        now = datetime.now(UTC)
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, Ack):
                if outcome.duplicate:
                    DUPLICATES.labels(consumer=self.consumer).inc()
                    continue
                envelope = envelopes[index]
                CONSUMED.labels(consumer=self.consumer, event_type=envelope.type).inc()
                CONSUME_LAG.labels(consumer=self.consumer).observe(
                    max(0.0, (now - envelope.time).total_seconds()))
            elif isinstance(outcome, Retry):
                RETRIED.labels(consumer=self.consumer).inc()
            else:
                DEAD_LETTERED.labels(consumer=self.consumer, reason=outcome.reason).inc()
