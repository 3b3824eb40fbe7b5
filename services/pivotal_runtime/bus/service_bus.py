"""One service's part of the bus: its outbox relay and, if it subscribes to events, its consumer.

Built by the bootstrap from settings; started and stopped by the service host.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Protocol

from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.bus.dispatch import Dispatcher, Subscription
from pivotal_runtime.bus.link import Link
from pivotal_runtime.bus.memory import InProcessBroker
from pivotal_runtime.bus.relay import OutboxRelay, Publisher
from pivotal_runtime.bus.topology import PRODUCTION, Topology
from pivotal_runtime.db import Database
from pivotal_runtime.settings import Mode, Settings

log = logging.getLogger("pivotal.bus")


class _Runnable(Protocol):
    link: Link

    def start(self) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...


class _RunnablePublisher(Publisher, _Runnable, Protocol):
    pass


class ServiceBus:
    def __init__(self, service: str, relay: OutboxRelay, publisher: _RunnablePublisher,
                 consumer: _Runnable | None) -> None:
        self.service = service
        self.relay = relay
        self.publisher = publisher
        self.consumer = consumer

    @property
    def links(self) -> list[Link]:
        links = [self.publisher.link]
        if self.consumer is not None:
            links.append(self.consumer.link)
        return links

    def healthy(self) -> bool:
        """True while every connection of the bus is up (the relay's and the consumer's)."""
        return all(link.up for link in self.links)

    def describe(self) -> str:
        return ", ".join(f"{link.name} {link.state.value}" for link in self.links)

    def start(self) -> None:
        self.publisher.start()
        self.relay.start()
        if self.consumer is not None:
            self.consumer.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops consuming, gives the relay a last pass, then closes the connections."""
        if self.consumer is not None:
            self.consumer.stop(timeout)
        self.relay.stop(timeout)
        self.publisher.stop(timeout)


def build_service_bus(settings: Settings, service: str, database: Database,
                      subscriptions: Sequence[Subscription], *,
                      broker: InProcessBroker | None = None,
                      topology: Topology = PRODUCTION,
                      unit_of_work: Callable[[], Any] | None = None) -> ServiceBus:
    """RabbitMQ when `amqp_url` is set; otherwise the in-process bus (`broker`, or a new one).
    Handlers run in `unit_of_work()` (the domain's), by default the database's own."""
    dispatcher = Dispatcher(
        service, database, subscriptions, unit_of_work=unit_of_work,
        delivery_limit=settings.bus_delivery_limit,
        retry=Backoff(initial=settings.bus_retry_delay_seconds,
                      maximum=settings.bus_retry_max_delay_seconds),
    )
    reconnect = Backoff(initial=0.2, maximum=settings.bus_reconnect_max_delay_seconds)
    consumer: _Runnable | None = None
    if settings.amqp_url:
        from pivotal_runtime.bus.consumer import AmqpConsumer
        from pivotal_runtime.bus.publisher import AmqpPublisher

        publisher: _RunnablePublisher = AmqpPublisher(settings.amqp_url, topology, service=service,
                                       confirm_timeout=settings.bus_publish_timeout_seconds,
                                       backoff=reconnect)
        if subscriptions:
            consumer = AmqpConsumer(settings.amqp_url, topology, dispatcher, service=service,
                                    prefetch=settings.bus_prefetch,
                                    delivery_limit=settings.bus_delivery_limit,
                                    backoff=Backoff(initial=0.2,
                                                    maximum=settings.bus_reconnect_max_delay_seconds))
    else:
        from pivotal_runtime.bus.memory import InProcessConsumer

        if settings.mode is not Mode.EMBEDDED:
            log.warning("%s: PIVOTAL_AMQP_URL is not set; events only reach consumers in this "
                        "process", service)
        broker = broker or InProcessBroker(topology)
        publisher = broker.publisher(service)
        if subscriptions:
            queue = broker.declare_queue(service, dispatcher.event_types,
                                         settings.bus_delivery_limit)
            consumer = InProcessConsumer(queue, dispatcher, service=service,
                                         prefetch=settings.bus_prefetch)
    relay = OutboxRelay(
        database, publisher, service=service,
        batch_size=settings.outbox_batch_size,
        poll_interval=settings.outbox_poll_interval_seconds,
        retention=timedelta(hours=settings.outbox_retention_hours),
        purge_interval=settings.outbox_purge_interval_seconds,
    )
    return ServiceBus(service, relay, publisher, consumer)
