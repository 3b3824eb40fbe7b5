"""Reading and replaying a service's dead-letter queue on RabbitMQ (operator tools).

Listing takes messages without acknowledging them and closes the channel, which hands them all
back. Replaying publishes the chosen messages, cleaned of their dead-letter headers, straight
to the service's queue (not to the exchange: other services already have them), waits for the
broker's confirm, and only then removes them from the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from pivotal_runtime.bus.amqp import connection_parameters
from pivotal_runtime.bus.consumer import (
    ATTEMPTS_HEADER,
    CONSUMER_HEADER,
    DEAD_LETTERED_AT_HEADER,
    ERROR_HEADER,
    REASON_HEADER,
)
from pivotal_runtime.bus.envelope import CE
from pivotal_runtime.bus.topology import Topology

REPLAYS_HEADER = "x-pivotal-replays"
_DEAD_LETTER_HEADERS = {REASON_HEADER, ERROR_HEADER, CONSUMER_HEADER, ATTEMPTS_HEADER,
                        DEAD_LETTERED_AT_HEADER, "x-death", "x-delivery-count"}
_DEAD_LETTER_PREFIXES = ("x-first-death-", "x-last-death-")


class DeadLetterQueueMissing(LookupError):
    pass


@dataclass(frozen=True)
class DeadLetterEntry:
    event_id: str
    event_type: str
    reason: str
    error: str
    attempts: int | None
    dead_lettered_at: str
    replays: int


def list_dead_letters(url: str, topology: Topology, service: str,
                      limit: int = 100) -> list[DeadLetterEntry]:
    with _dead_letter_channel(url, topology, service) as (channel, count):
        letters = []
        for _ in range(min(count, limit)):
            method, properties, _body = channel.basic_get(topology.dead_letter_queue(service))
            if method is None:
                break
            letters.append(_describe(properties))
        return letters


def replay_dead_letters(url: str, topology: Topology, service: str,
                        event_ids: set[str] | None = None) -> list[str]:
    """Replays the dead letters whose event id is in `event_ids` (all when None)."""
    replayed = []
    with _dead_letter_channel(url, topology, service) as (channel, count):
        channel.confirm_delivery()
        for _ in range(count):
            method, properties, body = channel.basic_get(topology.dead_letter_queue(service))
            if method is None:
                break
            if event_ids is not None and properties.message_id not in event_ids:
                continue
            channel.basic_publish("", topology.queue(service), body, _for_replay(properties),
                                  mandatory=True)
            channel.basic_ack(method.delivery_tag)
            replayed.append(properties.message_id or "")
    return replayed


@contextmanager
def _dead_letter_channel(url: str, topology: Topology,
                         service: str) -> Iterator[tuple[BlockingChannel, int]]:
    connection = pika.BlockingConnection(connection_parameters(url, f"pivotal-{service}-dlq"))
    try:
        channel = connection.channel()
        queue = topology.dead_letter_queue(service)
        try:
            declared = channel.queue_declare(queue, passive=True)
        except pika.exceptions.ChannelClosedByBroker as error:
            raise DeadLetterQueueMissing(
                f"no queue {queue}: {service} has not consumed events on this broker yet"
            ) from error
        yield channel, declared.method.message_count
    finally:
        if connection.is_open:
            connection.close()


def _describe(properties: pika.BasicProperties) -> DeadLetterEntry:
    headers: dict[str, Any] = properties.headers or {}
    attempts = headers.get(ATTEMPTS_HEADER)
    return DeadLetterEntry(
        event_id=properties.message_id or _text(headers.get(f"{CE}id")),
        event_type=_text(headers.get(f"{CE}type")) or properties.type or "",
        reason=_text(headers.get(REASON_HEADER)) or _text(headers.get("x-first-death-reason")),
        error=_text(headers.get(ERROR_HEADER)),
        attempts=int(attempts) if attempts is not None else None,
        dead_lettered_at=_text(headers.get(DEAD_LETTERED_AT_HEADER)) or _death_time(headers),
        replays=int(headers.get(REPLAYS_HEADER, 0)),
    )


def _for_replay(properties: pika.BasicProperties) -> pika.BasicProperties:
    headers = {key: value for key, value in (properties.headers or {}).items()
               if key not in _DEAD_LETTER_HEADERS and not key.startswith(_DEAD_LETTER_PREFIXES)}
    headers[REPLAYS_HEADER] = int((properties.headers or {}).get(REPLAYS_HEADER, 0)) + 1
    return pika.BasicProperties(
        content_type=properties.content_type,
        delivery_mode=2,
        message_id=properties.message_id,
        timestamp=properties.timestamp,
        app_id=properties.app_id,
        type=properties.type,
        headers=headers,
    )


def _death_time(headers: dict[str, Any]) -> str:
    deaths = headers.get("x-death") or []
    return str(deaths[0].get("time", "")) if deaths else ""


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)
