"""pika plumbing shared by the publisher, the consumer and the dead-letter tools."""

from __future__ import annotations

from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from pivotal_runtime.bus.envelope import BusMessage
from pivotal_runtime.bus.topology import (
    DEAD_LETTER_QUEUE_ARGUMENTS,
    Topology,
    queue_arguments,
)

HEARTBEAT_SECONDS = 30
BLOCKED_CONNECTION_TIMEOUT_SECONDS = 60
SOCKET_TIMEOUT_SECONDS = 5
PERSISTENT = 2


def connection_parameters(url: str, connection_name: str) -> pika.URLParameters:
    parameters = pika.URLParameters(url)
    parameters.heartbeat = HEARTBEAT_SECONDS
    parameters.blocked_connection_timeout = BLOCKED_CONNECTION_TIMEOUT_SECONDS
    parameters.socket_timeout = SOCKET_TIMEOUT_SECONDS
    parameters.connection_attempts = 1
    parameters.client_properties = {"connection_name": connection_name}
    return parameters


def properties_of(message: BusMessage) -> pika.BasicProperties:
    return pika.BasicProperties(
        content_type=message.content_type,
        delivery_mode=PERSISTENT,
        message_id=message.message_id,
        timestamp=message.timestamp,
        app_id=message.app_id,
        type=message.routing_key,
        headers=dict(message.headers),
    )


def message_of(routing_key: str, properties: pika.BasicProperties, body: bytes) -> BusMessage:
    return BusMessage(
        routing_key=routing_key,
        body=body,
        headers=dict(properties.headers or {}),
        message_id=properties.message_id or "",
        content_type=properties.content_type or "",
        timestamp=properties.timestamp,
        app_id=properties.app_id,
    )


def delivery_count_of(properties: pika.BasicProperties, redelivered: bool) -> int:
    """Earlier deliveries of this message: quorum queues count them in `x-delivery-count`."""
    count: Any = (properties.headers or {}).get("x-delivery-count")
    if count is None:
        return 1 if redelivered else 0
    return int(count)


def declare_exchange(channel: BlockingChannel, topology: Topology) -> None:
    channel.exchange_declare(topology.exchange, exchange_type="topic", durable=True)


def declare_consumer_queues(channel: BlockingChannel, topology: Topology, service: str,
                            event_types: list[str], delivery_limit: int) -> None:
    """The service's queue bound to the types it handles, and its dead-letter path."""
    declare_exchange(channel, topology)
    dead_letters = topology.dead_letter_exchange(service)
    channel.exchange_declare(dead_letters, exchange_type="fanout", durable=True)
    channel.queue_declare(topology.dead_letter_queue(service), durable=True,
                          arguments=DEAD_LETTER_QUEUE_ARGUMENTS)
    channel.queue_bind(topology.dead_letter_queue(service), dead_letters)
    queue = topology.queue(service)
    channel.queue_declare(queue, durable=True,
                          arguments=queue_arguments(topology, service, delivery_limit))
    for event_type in event_types:
        channel.queue_bind(queue, topology.exchange, routing_key=event_type)
