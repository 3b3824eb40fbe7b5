"""A service's RabbitMQ consumer: its quorum queue, batches through the dispatcher, healing.

Deliveries gathered from the socket form a batch of at most half the prefetch window. After the
batch committed, each message is acknowledged, handed back to the queue after a back-off
(`basic.nack` with requeue: the broker counts the delivery), or published to the service's
dead-letter exchange with the reason in its headers and then acknowledged. A message waiting
for its back-off holds one prefetch slot; the messages behind it keep flowing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from pivotal_runtime.bus.amqp import (
    connection_parameters,
    declare_consumer_queues,
    delivery_count_of,
    message_of,
)
from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.bus.dispatch import (
    Ack,
    BatchNotCommitted,
    DeadLetter,
    Delivery,
    Dispatcher,
    Outcome,
    Retry,
)
from pivotal_runtime.bus.link import Link, LinkState
from pivotal_runtime.bus.metrics import REDELIVERED
from pivotal_runtime.bus.topology import Topology

log = logging.getLogger("pivotal.bus.consumer")
POLL_SECONDS = 0.2
ERROR_HEADER_LIMIT = 2_000

REASON_HEADER = "x-pivotal-dead-letter-reason"
ERROR_HEADER = "x-pivotal-error"
CONSUMER_HEADER = "x-pivotal-consumer"
ATTEMPTS_HEADER = "x-pivotal-attempts"
DEAD_LETTERED_AT_HEADER = "x-pivotal-dead-lettered-at"


@dataclass(frozen=True)
class _Received:
    delivery: Delivery
    properties: BasicProperties


class AmqpConsumer:
    def __init__(self, url: str, topology: Topology, dispatcher: Dispatcher, *, service: str,
                 prefetch: int = 512, delivery_limit: int = 10,
                 backoff: Backoff | None = None) -> None:
        self.link = Link(service, "consumer")
        self.service = service
        self._topology = topology
        self._dispatcher = dispatcher
        self._parameters = connection_parameters(url, f"pivotal-{service}-consumer")
        self._prefetch = prefetch
        # Half the prefetch window per batch: the other half keeps arriving meanwhile.
        self._batch_size = max(1, prefetch // 2)
        self._delivery_limit = delivery_limit
        self._backoff = backoff or Backoff(initial=0.2, maximum=30.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Tags of this channel's messages waiting out a retry back-off, still unacknowledged:
        # while there are some, a batch cannot be acknowledged with one `multiple` ack.
        self._held: set[int] = set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{self.service}-consumer",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume()
            except (pika.exceptions.AMQPError, OSError) as error:
                self.link.set(LinkState.RECONNECTING, repr(error))
            except Exception as error:
                log.exception("%s consumer failed", self.service)
                self.link.set(LinkState.RECONNECTING, repr(error))
            if not self._stop.is_set():
                self._backoff.wait(self._stop)
        self.link.set(LinkState.STOPPED)

    def _consume(self) -> None:
        connection = pika.BlockingConnection(self._parameters)
        try:
            channel = connection.channel()
            declare_consumer_queues(channel, self._topology, self.service,
                                    self._dispatcher.event_types, self._delivery_limit)
            channel.basic_qos(prefetch_count=self._prefetch)
            dead_letters = connection.channel()
            dead_letters.confirm_delivery()
            received: list[_Received] = []
            redelivered = REDELIVERED.labels(consumer=self.service)

            def on_message(_channel: BlockingChannel, method: Basic.Deliver,
                           properties: BasicProperties, body: bytes) -> None:
                delivery = Delivery(
                    message=message_of(method.routing_key, properties, body),
                    delivery_count=delivery_count_of(properties, method.redelivered),
                    redelivered=method.redelivered,
                    tag=method.delivery_tag,
                )
                if method.redelivered:
                    redelivered.inc()
                received.append(_Received(delivery, properties))

            self._held = set()
            channel.basic_consume(self._topology.queue(self.service), on_message)
            self._backoff.reset()
            self.link.set(LinkState.CONNECTED)
            while not self._stop.is_set():
                connection.process_data_events(time_limit=0 if received else POLL_SECONDS)
                if received:
                    batch, received[:] = received[:self._batch_size], received[self._batch_size:]
                    self._settle(connection, channel, dead_letters, batch)
        finally:
            if connection.is_open:
                with contextlib.suppress(pika.exceptions.AMQPError, OSError):
                    connection.close()

    def _settle(self, connection: pika.BlockingConnection, channel: BlockingChannel,
                dead_letters: BlockingChannel, batch: list[_Received]) -> None:
        outcomes = self._process(connection, [item.delivery for item in batch])
        if outcomes is None:
            return
        if not self._held and all(isinstance(outcome, Ack) for outcome in outcomes):
            channel.basic_ack(batch[-1].delivery.tag, multiple=True)
            return
        for item, outcome in zip(batch, outcomes, strict=True):
            tag = item.delivery.tag
            if isinstance(outcome, Ack):
                channel.basic_ack(tag)
            elif isinstance(outcome, Retry):
                self._held.add(tag)
                connection.call_later(outcome.delay, partial(self._requeue, channel, tag))
            else:
                self._dead_letter(channel, dead_letters, item, outcome)

    def _requeue(self, channel: BlockingChannel, tag: int) -> None:
        self._held.discard(tag)
        if channel.is_open:
            channel.basic_nack(tag, requeue=True)

    def _process(self, connection: pika.BlockingConnection,
                 deliveries: list[Delivery]) -> list[Outcome] | None:
        """Runs the batch until it commits; None when stopping first (the broker redelivers)."""
        retries = Backoff(initial=0.5, maximum=self._backoff.maximum)
        while True:
            try:
                return self._dispatcher.process(deliveries)
            except BatchNotCommitted as error:
                log.warning("%s: batch of %d not committed, retrying: %s", self.service,
                            len(deliveries), error)
                # Sleeping through pika keeps heartbeats going; the messages stay unacked
                # and keep their delivery count, so a database outage burns no attempts.
                connection.sleep(retries.next_delay())
                if self._stop.is_set():
                    return None

    def _dead_letter(self, channel: BlockingChannel, dead_letters: BlockingChannel,
                     item: _Received, outcome: DeadLetter) -> None:
        delivery = item.delivery
        headers = dict(item.properties.headers or {})
        headers.update({
            REASON_HEADER: outcome.reason,
            ERROR_HEADER: outcome.error[:ERROR_HEADER_LIMIT],
            CONSUMER_HEADER: self.service,
            ATTEMPTS_HEADER: delivery.delivery_count + 1,
            DEAD_LETTERED_AT_HEADER: datetime.now(UTC).isoformat(),
        })
        properties = BasicProperties(
            content_type=item.properties.content_type,
            delivery_mode=2,
            message_id=item.properties.message_id,
            timestamp=item.properties.timestamp,
            app_id=item.properties.app_id,
            type=item.properties.type,
            headers=headers,
        )
        try:
            dead_letters.basic_publish(self._topology.dead_letter_exchange(self.service),
                                       delivery.message.routing_key, delivery.message.body,
                                       properties)
        except (pika.exceptions.NackError, pika.exceptions.UnroutableError) as error:
            log.error("%s: dead-lettering %s failed, will retry: %r", self.service,
                      delivery.message.message_id, error)
            channel.basic_nack(delivery.tag, requeue=True)
            return
        log.error("%s: dead-lettered %s (%s): %s", self.service, delivery.message.message_id,
                  outcome.reason, outcome.error)
        channel.basic_ack(delivery.tag)

