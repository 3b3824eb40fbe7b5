"""The in-process bus of embedded mode: RabbitMQ's behaviour that the bus relies on, in memory.

The same relay publishes to it and the same dispatcher consumes from it: a topic exchange
routes by binding key to queues; a queue hands out up to `prefetch` unacknowledged messages,
counts deliveries, requeues at the head, and moves a message past its delivery limit, or
dead-lettered by the consumer, to the queue's dead letters. Nothing survives the process:
events relayed but not yet consumed when it stops are gone (their outbox rows are marked
published), which embedded mode accepts as a development setup.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.bus.dispatch import (
    Ack,
    BatchNotCommitted,
    Delivery,
    Dispatcher,
    Outcome,
    Retry,
)
from pivotal_runtime.bus.envelope import BusMessage
from pivotal_runtime.bus.link import Link, LinkState
from pivotal_runtime.bus.metrics import REDELIVERED
from pivotal_runtime.bus.topology import PRODUCTION, Topology, topic_matches

log = logging.getLogger("pivotal.bus.memory")
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class DeadLetterRecord:
    message: BusMessage
    reason: str
    error: str
    attempts: int
    dead_lettered_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class MemoryQueue:
    def __init__(self, name: str, delivery_limit: int) -> None:
        self.name = name
        self.delivery_limit = delivery_limit
        self.dead_letters: list[DeadLetterRecord] = []
        self._ready: deque[Delivery] = deque()
        self._unacked: dict[int, Delivery] = {}
        self._tags = itertools.count(1)
        self._condition = threading.Condition()

    def __len__(self) -> int:
        with self._condition:
            return len(self._ready) + len(self._unacked)

    def put(self, message: BusMessage) -> None:
        with self._condition:
            self._ready.append(Delivery(message))
            self._condition.notify()

    def take(self, prefetch: int, timeout: float) -> list[Delivery]:
        """Up to `prefetch - unacked` deliveries; waits up to `timeout` for the first."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not self._ready or len(self._unacked) >= prefetch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._condition.wait(remaining)
            taken = []
            while self._ready and len(self._unacked) < prefetch:
                delivery = replace(self._ready.popleft(), tag=next(self._tags))
                self._unacked[delivery.tag] = delivery
                taken.append(delivery)
            return taken

    def ack(self, tag: int) -> None:
        with self._condition:
            self._unacked.pop(tag, None)
            self._condition.notify()

    def requeue(self, tag: int) -> None:
        """Back to the head of the queue, one delivery more; past the limit, a dead letter."""
        with self._condition:
            delivery = self._unacked.pop(tag, None)
            if delivery is None:
                return
            count = delivery.delivery_count + 1
            if count > self.delivery_limit:
                self.dead_letters.append(
                    DeadLetterRecord(delivery.message, "delivery_limit", "", count))
            else:
                self._ready.appendleft(replace(delivery, delivery_count=count, redelivered=True,
                                               tag=None))
            self._condition.notify()

    def dead_letter(self, tag: int, reason: str, error: str) -> None:
        with self._condition:
            delivery = self._unacked.pop(tag, None)
            if delivery is not None:
                self.dead_letters.append(DeadLetterRecord(delivery.message, reason, error,
                                                          delivery.delivery_count + 1))
            self._condition.notify()

    def replay_dead_letters(self) -> int:
        with self._condition:
            replayed, self.dead_letters = self.dead_letters, []
            for record in replayed:
                self._ready.append(Delivery(record.message))
            self._condition.notify_all()
            return len(replayed)


class InProcessBroker:
    """One per process, shared by every service host in it."""

    def __init__(self, topology: Topology = PRODUCTION) -> None:
        self.topology = topology
        self._queues: dict[str, MemoryQueue] = {}
        self._bindings: list[tuple[str, MemoryQueue]] = []
        self._lock = threading.Lock()

    def declare_queue(self, service: str, event_types: Sequence[str],
                      delivery_limit: int) -> MemoryQueue:
        name = self.topology.queue(service)
        with self._lock:
            queue = self._queues.get(name)
            if queue is None:
                queue = self._queues[name] = MemoryQueue(name, delivery_limit)
            for event_type in event_types:
                if (event_type, queue) not in self._bindings:
                    self._bindings.append((event_type, queue))
        return queue

    def queue(self, service: str) -> MemoryQueue:
        return self._queues[self.topology.queue(service)]

    def route(self, messages: Sequence[BusMessage]) -> None:
        with self._lock:
            bindings = list(self._bindings)
        for message in messages:
            targets = {id(q): q for key, q in bindings if topic_matches(key, message.routing_key)}
            for queue in targets.values():
                queue.put(message)

    def publisher(self, service: str) -> InProcessPublisher:
        return InProcessPublisher(self, service)


class InProcessPublisher:
    """The relay's view of the in-process broker: always connected, confirms at once."""

    def __init__(self, broker: InProcessBroker, service: str) -> None:
        self._broker = broker
        self.link = Link(service, "relay")
        self.link.set(LinkState.CONNECTED)

    @property
    def exchange(self) -> str:
        return self._broker.topology.exchange

    def start(self) -> None:
        pass

    def stop(self, timeout: float = 5.0) -> None:
        pass

    def publish(self, messages: Sequence[BusMessage]) -> None:
        self._broker.route(messages)

    def wait_ready(self, timeout: float) -> bool:
        return True


class InProcessConsumer:
    def __init__(self, queue: MemoryQueue, dispatcher: Dispatcher, *, service: str,
                 prefetch: int = 512, backoff: Backoff | None = None) -> None:
        self.link = Link(service, "consumer")
        self.service = service
        self._queue = queue
        self._dispatcher = dispatcher
        self._prefetch = prefetch
        self._backoff = backoff or Backoff(initial=0.5, maximum=30.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._timers: set[threading.Timer] = set()

    def start(self) -> None:
        self.link.set(LinkState.CONNECTED)
        self._thread = threading.Thread(target=self._run, name=f"{self.service}-consumer",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for timer in list(self._timers):
            timer.cancel()
        self.link.set(LinkState.STOPPED)

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._queue.take(self._prefetch, POLL_SECONDS)
            if not batch:
                continue
            REDELIVERED.labels(consumer=self.service).inc(sum(d.redelivered for d in batch))
            outcomes = self._process(batch)
            if outcomes is None:
                return
            self._backoff.reset()
            for delivery, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Ack):
                    self._queue.ack(delivery.tag)
                elif isinstance(outcome, Retry):
                    self._later(outcome.delay, delivery.tag)
                else:
                    log.error("%s: dead-lettered %s (%s): %s", self.service,
                              delivery.message.message_id, outcome.reason, outcome.error)
                    self._queue.dead_letter(delivery.tag, outcome.reason, outcome.error)

    def _process(self, batch: list[Delivery]) -> list[Outcome] | None:
        """Runs the batch until it commits, holding it meanwhile; None when stopping first."""
        while True:
            try:
                return self._dispatcher.process(batch)
            except BatchNotCommitted as error:
                log.warning("%s: batch of %d not committed, retrying: %s", self.service,
                            len(batch), error)
                if self._stop.wait(self._backoff.next_delay()):
                    return None

    def _later(self, delay: float, tag: int) -> None:
        def requeue() -> None:
            self._timers.discard(timer)
            self._queue.requeue(tag)

        timer = threading.Timer(delay, requeue)
        timer.daemon = True
        self._timers.add(timer)
        timer.start()
