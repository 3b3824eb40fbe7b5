"""Consumers against real PostgreSQL and RabbitMQ: idempotence, dead letters, replay."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pika
import pytest
import sqlalchemy as sa
from pivotal.identity.v1.events_pb2 import OrganizationCreated
from pivotal_runtime.bus.amqp import properties_of
from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.bus.consumer import AmqpConsumer
from pivotal_runtime.bus.dispatch import Dispatcher, Subscription
from pivotal_runtime.bus.envelope import message_from_outbox
from pivotal_runtime.bus.publisher import AmqpPublisher
from pivotal_runtime.bus.relay import OutboxRelay
from pivotal_runtime.bus.topology import Topology
from pivotal_runtime.cli import app
from pivotal_runtime.db import Database
from pivotal_runtime.outbox import outbox
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from tests.bus.support import (
    EVENT_TYPE,
    effect_counts,
    record_effect,
    wait_until,
    write_events,
)

pytestmark = pytest.mark.integration
DELIVERY_LIMIT = 3


class Flaky:
    """A handler that fails on organizations named "Poison" while `broken` is set."""

    def __init__(self) -> None:
        self.broken = True

    def __call__(self, uow, event: OrganizationCreated, envelope) -> None:
        if self.broken and event.display_name == "Poison":
            raise ValueError("the plan of this organization is unknown")
        record_effect(uow, event, envelope)


@pytest.fixture
def billing_bus(make_database: Callable[[str], Database], topology: Topology,
                amqp_url: str) -> Iterator[tuple[Database, Database, Flaky, OutboxRelay]]:
    producer, billing = make_database("identity"), make_database("billing")
    handler = Flaky()
    dispatcher = Dispatcher("billing", billing, [Subscription(OrganizationCreated, handler)],
                            delivery_limit=DELIVERY_LIMIT,
                            retry=Backoff(initial=0.1, maximum=0.2))
    consumer = AmqpConsumer(amqp_url, topology, dispatcher, service="billing", prefetch=10,
                            delivery_limit=DELIVERY_LIMIT)
    publisher = AmqpPublisher(amqp_url, topology, service="identity")
    publisher.start()
    consumer.start()
    assert publisher.wait_ready(10) and wait_until(lambda: consumer.link.up, 10)
    relay = OutboxRelay(producer, publisher, service="identity", poll_interval=0.05)
    relay.start()
    yield producer, billing, handler, relay
    relay.stop()
    consumer.stop()
    publisher.stop()


def run_cli(amqp_url: str, *args: str) -> str:
    result = CliRunner().invoke(app, ["events", "dlq", *args],
                                env={"PIVOTAL_AMQP_URL": amqp_url})
    assert result.exit_code == 0, result.output
    return result.output


def dead_letters(amqp_url: str, topology: Topology) -> list[dict]:
    output = run_cli(amqp_url, "list", "billing", "--json", "--prefix", topology.prefix)
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_a_poison_event_ends_in_the_dead_letter_queue_with_its_reason_and_replays(
    billing_bus: tuple[Database, Database, Flaky, OutboxRelay], topology: Topology,
    amqp_url: str,
) -> None:
    producer, billing, handler, _ = billing_bus
    [poison] = write_events(producer, 1, name="Poison")
    write_events(producer, 40, per_transaction=5)

    assert wait_until(lambda: effect_counts(billing) == (40, 40), 20)
    assert wait_until(lambda: len(dead_letters(amqp_url, topology)) == 1, 20)
    [letter] = dead_letters(amqp_url, topology)
    assert letter["event_id"] == poison
    assert letter["event_type"] == EVENT_TYPE
    assert letter["reason"] == "handler-failed"
    assert "the plan of this organization is unknown" in letter["error"]
    assert letter["attempts"] == DELIVERY_LIMIT
    assert dead_letters(amqp_url, topology) == [letter]

    handler.broken = False
    output = run_cli(amqp_url, "replay", "billing", "--id", poison, "--prefix", topology.prefix)

    assert f"replayed {poison}" in output
    assert wait_until(lambda: effect_counts(billing) == (41, 41), 20)
    assert dead_letters(amqp_url, topology) == []


def duplicates() -> float:
    return REGISTRY.get_sample_value("pivotal_bus_duplicates_total", {"consumer": "billing"}) or 0


def test_undecodable_messages_are_dead_lettered_at_once_and_duplicates_change_nothing(
    billing_bus: tuple[Database, Database, Flaky, OutboxRelay], topology: Topology,
    amqp_url: str,
) -> None:
    producer, billing, _, relay = billing_bus
    [event_id] = write_events(producer, 1, name="Twice")
    assert wait_until(lambda: effect_counts(billing) == (1, 1), 10)

    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    headers = {"cloudEvents:id": "0b8e1a53-0000-4000-8000-000000000001",
               "cloudEvents:type": EVENT_TYPE, "cloudEvents:source": "/pivotal/identity",
               "cloudEvents:time": "2026-01-01T00:00:00Z", "cloudEvents:subject": "x"}
    channel.basic_publish(topology.exchange, EVENT_TYPE, b"\xff\xff\xff\xff",
                          pika.BasicProperties(content_type="application/protobuf",
                                               message_id=headers["cloudEvents:id"],
                                               headers=headers))
    channel.basic_publish(topology.exchange, EVENT_TYPE, b"{}",
                          pika.BasicProperties(content_type="application/json",
                                               message_id="not-an-event"))
    with producer.engine.connect() as connection_db:
        row = connection_db.execute(sa.select(outbox).where(outbox.c.event_id == event_id)).one()
    again = message_from_outbox(row, "identity", None)
    duplicates_before = duplicates()
    channel.basic_publish(topology.exchange, again.routing_key, again.body, properties_of(again))
    connection.close()

    assert wait_until(lambda: duplicates() == duplicates_before + 1, 10)
    assert wait_until(lambda: len(dead_letters(amqp_url, topology)) == 2, 10)
    reasons = {letter["event_id"]: letter for letter in dead_letters(amqp_url, topology)}
    assert reasons["0b8e1a53-0000-4000-8000-000000000001"]["reason"] == "undecodable"
    assert reasons["0b8e1a53-0000-4000-8000-000000000001"]["attempts"] == 1
    assert "content type" in reasons["not-an-event"]["error"]
    assert effect_counts(billing) == (1, 1)
    assert relay.run_once() == 0
