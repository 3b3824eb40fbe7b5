"""Embedded mode: the same relay and dispatcher over the in-process bus, on SQLite files."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pivotal.identity.v1.events_pb2 import OrganizationCreated
from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.bus import EventRejected, Subscription
from pivotal_runtime.bus.memory import InProcessBroker
from pivotal_runtime.bus.service_bus import build_service_bus
from pivotal_runtime.db import Database
from pivotal_runtime.server import BUS_HEALTH_SERVICE, ServiceDeps, ServiceHost
from pivotal_runtime.settings import Settings

from tests.bus.support import (
    effect_counts,
    effect_subscription,
    organization_created,
    record_effect,
    unpublished,
    wait_until,
    write_events,
)

SETTINGS = Settings(bus_retry_delay_seconds=0.05, bus_retry_max_delay_seconds=0.1,
                    bus_delivery_limit=3, outbox_poll_interval_seconds=0.1)


def test_committed_events_reach_the_consumer_once_and_rolled_back_ones_never(
    sqlite_database: Callable[[str], Database],
) -> None:
    producer, consumer = sqlite_database("identity"), sqlite_database("billing")
    broker = InProcessBroker()
    consuming = build_service_bus(SETTINGS, "billing", consumer, [effect_subscription()],
                                  broker=broker)
    producing = build_service_bus(SETTINGS, "identity", producer, [], broker=broker)
    consuming.start()
    producing.start()
    try:
        with producer.unit_of_work() as uow:
            event, organization = organization_created("Rolled Back")
            uow.add_event(event, aggregate_id=organization, organization_id=organization)
        committed = write_events(producer, 50, per_transaction=10)

        assert wait_until(lambda: effect_counts(consumer) == (50, 50), 10)
        assert producing.relay.run_once() == 0
        assert unpublished(producer) == 0
        assert effect_counts(consumer) == (50, 50)
        assert len(committed) == 50
    finally:
        producing.stop()
        consuming.stop()


def test_in_process_deliveries_carry_the_outbox_sequence_in_commit_order(
    sqlite_database: Callable[[str], Database],
) -> None:
    producer, consumer = sqlite_database("identity"), sqlite_database("billing")
    seen: list[tuple[str, int]] = []

    def remember(uow, event: OrganizationCreated, envelope) -> None:
        seen.append((envelope.id, envelope.sequence))

    broker = InProcessBroker()
    consuming = build_service_bus(SETTINGS, "billing", consumer,
                                  [Subscription(OrganizationCreated, remember)], broker=broker)
    producing = build_service_bus(SETTINGS, "identity", producer, [], broker=broker)
    consuming.start()
    producing.start()
    try:
        written = write_events(producer, 5, per_transaction=1)

        assert wait_until(lambda: len(seen) == 5, 10)
        by_id = dict(seen)
        sequences = [by_id[event_id] for event_id in written]
        assert all(sequences) and sequences == sorted(set(sequences))
    finally:
        producing.stop()
        consuming.stop()


def test_a_poison_event_is_dead_lettered_after_the_limit_and_the_rest_flows(
    sqlite_database: Callable[[str], Database],
) -> None:
    producer, consumer = sqlite_database("identity"), sqlite_database("billing")
    broker = InProcessBroker()
    attempts: list[str] = []

    def fussy(uow, event: OrganizationCreated, envelope) -> None:
        if event.display_name == "Poison":
            attempts.append(envelope.id)
            raise RuntimeError("cannot bill a poisoned organization")
        if event.display_name == "Rejected":
            raise EventRejected("not for us")
        record_effect(uow, event, envelope)

    consuming = build_service_bus(SETTINGS, "billing", consumer,
                                  [Subscription(OrganizationCreated, fussy)], broker=broker)
    producing = build_service_bus(SETTINGS, "identity", producer, [], broker=broker)
    consuming.start()
    producing.start()
    try:
        poison = write_events(producer, 1, name="Poison")
        rejected = write_events(producer, 1, name="Rejected")
        write_events(producer, 20)
        queue = broker.queue("billing")

        assert wait_until(lambda: len(queue.dead_letters) == 2 and len(queue) == 0, 10)
        assert effect_counts(consumer) == (20, 20)
        letters = {letter.message.message_id: letter for letter in queue.dead_letters}
        assert letters[poison[0]].reason == "handler-failed"
        assert "cannot bill a poisoned organization" in letters[poison[0]].error
        assert letters[poison[0]].attempts == 3
        assert set(attempts) == {poison[0]}
        assert letters[rejected[0]].reason == "rejected"
        assert letters[rejected[0]].attempts == 1
    finally:
        producing.stop()
        consuming.stop()


def test_the_host_reports_the_bus_in_its_health(sqlite_database: Callable[[str], Database],
                                                  ) -> None:
    database = sqlite_database("billing")
    settings = Settings(health_probe_interval_seconds=0.1, grace_period_seconds=1)
    bus = build_service_bus(settings, "billing", database, [effect_subscription()])
    deps = ServiceDeps(settings=settings, name="billing", database=database)
    verifier = TokenVerifier(StaticKeySource({}), issuer="test", audience="test")
    host = ServiceHost(deps, verifier, port=0, bus=bus)
    host.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{host.port}")
    stub = health_pb2_grpc.HealthStub(channel)

    def status() -> int:
        request = health_pb2.HealthCheckRequest(service=BUS_HEALTH_SERVICE)
        return stub.Check(request, timeout=2).status

    try:
        assert wait_until(lambda: status() == health_pb2.HealthCheckResponse.SERVING, 5)
        assert bus.healthy()
    finally:
        channel.close()
        assert host.drain().wait(10)
    assert not bus.healthy()
