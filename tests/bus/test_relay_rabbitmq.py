"""The outbox relay against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pivotal.identity.v1.events_pb2 import OrganizationCreated
from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.bus.consumer import AmqpConsumer
from pivotal_runtime.bus.dispatch import Dispatcher
from pivotal_runtime.bus.publisher import AmqpPublisher
from pivotal_runtime.bus.relay import OutboxRelay, PublishError
from pivotal_runtime.bus.topology import Topology
from pivotal_runtime.db import Database
from pivotal_runtime.outbox import outbox

from tests.bus.support import (
    Probe,
    effect_counts,
    effect_subscription,
    organization_created,
    unpublished,
    wait_until,
    write_events,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def publishers(amqp_url: str, topology: Topology) -> Iterator[Callable[[], AmqpPublisher]]:
    started: list[AmqpPublisher] = []

    def start() -> AmqpPublisher:
        publisher = AmqpPublisher(amqp_url, topology, service="identity")
        publisher.start()
        started.append(publisher)
        assert publisher.wait_ready(10)
        return publisher

    yield start
    for publisher in started:
        publisher.stop()


def test_rolled_back_events_are_never_published_committed_ones_once_per_pass(
    make_database: Callable[[str], Database], topology: Topology, amqp_url: str,
    publishers: Callable[[], AmqpPublisher],
) -> None:
    producer, billing = make_database("identity"), make_database("billing")
    probe = Probe(amqp_url, topology)
    consumer = AmqpConsumer(amqp_url, topology,
                            Dispatcher("billing", billing, [effect_subscription()]),
                            service="billing")
    consumer.start()
    relay = OutboxRelay(producer, publishers(), service="identity")
    try:
        assert wait_until(lambda: consumer.link.up, 10)
        with producer.unit_of_work() as uow:
            event, organization = organization_created("Never Happened")
            uow.add_event(event, aggregate_id=organization, organization_id=organization)
        [committed] = write_events(producer, 1, name="Committed")

        assert relay.run_once() == 1
        assert relay.run_once() == 0

        published = probe.take(2, timeout=3)
        assert [properties.message_id for _, properties, _ in published] == [committed]
        assert OrganizationCreated.FromString(published[0][2]).display_name == "Committed"
        assert wait_until(lambda: effect_counts(billing) == (1, 1), 10)
        consumer.stop()
        assert effect_counts(billing) == (1, 1)
        assert unpublished(producer) == 0
    finally:
        consumer.stop()
        probe.close()


def test_every_published_event_carries_a_sequence_that_increases_per_source(
    make_database: Callable[[str], Database], topology: Topology, amqp_url: str,
    publishers: Callable[[], AmqpPublisher],
) -> None:
    producer = make_database("identity")
    probe = Probe(amqp_url, topology)
    relay = OutboxRelay(producer, publishers(), service="identity")
    try:
        written = write_events(producer, 3, per_transaction=1) + write_events(producer, 2)
        relay.drain()

        published = probe.take(len(written))
        assert [properties.message_id for _, properties, _ in published] == written
        sequences = [properties.headers["cloudEvents:sequence"] for _, properties, _ in published]
        assert all(sequences), sequences
        assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
        assert [int(s) for s in sequences] == sorted(int(s) for s in sequences)
    finally:
        probe.close()


def test_relays_sharing_a_database_publish_each_row_once_in_aggregate_order(
    make_database: Callable[[str], Database], topology: Topology, amqp_url: str,
    publishers: Callable[[], AmqpPublisher],
) -> None:
    producer = make_database("identity")
    probe = Probe(amqp_url, topology)
    aggregates = [f"org-{n}" for n in range(20)]
    for sequence in range(60):
        with producer.unit_of_work() as uow:
            for aggregate in aggregates:
                event = OrganizationCreated(organization_id=aggregate,
                                            display_name=f"{aggregate}:{sequence}")
                uow.add_event(event, aggregate_id=aggregate, organization_id=aggregate)
            uow.commit()
    total = 60 * len(aggregates)
    relays = [OutboxRelay(producer, publishers(), service="identity", batch_size=37)
              for _ in range(3)]
    published = [0] * len(relays)

    def drain(index: int) -> None:
        while unpublished(producer):
            published[index] += relays[index].run_once()

    threads = [threading.Thread(target=drain, args=(index,)) for index in range(len(relays))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        messages = probe.take(total + 1, timeout=5)
    finally:
        probe.close()

    assert sum(published) == total == len(messages)
    assert sum(1 for count in published if count) >= 2, published
    ids = [properties.message_id for _, properties, _ in messages]
    assert len(set(ids)) == total
    seen: dict[str, list[int]] = defaultdict(list)
    for _, _, body in messages:
        aggregate, sequence = OrganizationCreated.FromString(body).display_name.split(":")
        seen[aggregate].append(int(sequence))
    assert all(sequences == list(range(60)) for sequences in seen.values()), seen


def test_an_unreachable_broker_leaves_rows_for_later_with_the_error(
    make_database: Callable[[str], Database], topology: Topology, amqp_url: str,
    publishers: Callable[[], AmqpPublisher],
) -> None:
    producer = make_database("identity")
    write_events(producer, 3)
    nowhere = AmqpPublisher("amqp://guest:guest@127.0.0.1:1/%2F", topology, service="identity",
                            backoff=Backoff(initial=0.05, maximum=0.1))
    nowhere.start()
    try:
        with pytest.raises(PublishError, match="not connected"):
            OutboxRelay(producer, nowhere, service="identity").run_once()
    finally:
        nowhere.stop()
    with producer.engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.attempts, outbox.c.last_error)).all()
    assert {attempts for attempts, _ in rows} == {1}
    assert all("not connected" in error for _, error in rows)
    probe = Probe(amqp_url, topology)
    try:
        assert OutboxRelay(producer, publishers(), service="identity").run_once() == 3
        assert len(probe.take(3, timeout=5)) == 3
    finally:
        probe.close()


def test_published_rows_are_purged_after_the_retention_period_and_backlog_is_measured(
    make_database: Callable[[str], Database], publishers: Callable[[], AmqpPublisher],
) -> None:
    producer = make_database("identity")
    relay = OutboxRelay(producer, publishers(), service="identity",
                        retention=timedelta(hours=1))
    write_events(producer, 10)
    assert relay.drain() == 10
    write_events(producer, 2)

    count, age = relay.backlog()
    assert count == 2 and 0 <= age < 60
    assert relay.purge() == 0
    assert relay.purge(now=datetime.now(UTC) + timedelta(hours=2)) == 10
    with producer.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 2
