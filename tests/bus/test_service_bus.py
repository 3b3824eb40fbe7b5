"""The bus inside a service host: built by the bootstrap, reported by health, stopped on drain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.bus.service_bus import ServiceBus, build_service_bus
from pivotal_runtime.bus.topology import Topology
from pivotal_runtime.db import Database
from pivotal_runtime.kit import domain as domain_module
from pivotal_runtime.kit.domain import ServiceDeps, load_domain
from pivotal_runtime.server import BUS_HEALTH_SERVICE, ServiceHost
from pivotal_runtime.settings import Mode, Settings

from tests.bus.support import effect_counts, wait_until, write_events

pytestmark = pytest.mark.integration
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@contextmanager
def hosted(settings: Settings, database: Database,
           bus: ServiceBus) -> Iterator[Callable[[str], int]]:
    deps = ServiceDeps(settings=settings, name="billing", database=database)
    host = ServiceHost(deps, TokenVerifier(StaticKeySource({}), issuer="i", audience="a"),
                       port=0, bus=bus)
    host.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{host.port}")
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        yield lambda service: stub.Check(health_pb2.HealthCheckRequest(service=service),
                                         timeout=2).status
    finally:
        channel.close()
        assert host.drain().wait(15)


def test_a_domain_subscribes_through_its_service_module(
    monkeypatch: pytest.MonkeyPatch, make_database: Callable[[str], Database],
    topology: Topology, amqp_url: str, postgres_url: str,
) -> None:
    monkeypatch.setitem(domain_module.DOMAIN_PACKAGES, "billing",
                        "tests.bus.domain_with_consumers")
    producer, billing = make_database("identity"), make_database("billing")
    settings = Settings(mode=Mode.SERVICES, database_url=postgres_url, amqp_url=amqp_url,
                        health_probe_interval_seconds=0.1, grace_period_seconds=1,
                        outbox_poll_interval_seconds=0.05)
    deps = ServiceDeps(settings=settings, name="billing", database=billing)
    subscriptions = load_domain(deps).subscriptions
    consuming = build_service_bus(settings, "billing", billing, subscriptions,
                                  topology=topology)
    producing = build_service_bus(settings, "identity", producer, [], topology=topology)
    producing.start()
    try:
        with hosted(settings, billing, consuming) as status:
            assert wait_until(lambda: status(BUS_HEALTH_SERVICE) == SERVING, 10)
            assert status("") == SERVING
            write_events(producer, 5)
            assert wait_until(lambda: effect_counts(billing) == (5, 5), 10)
        assert not consuming.healthy()
    finally:
        producing.stop()


def test_an_unreachable_broker_shows_in_bus_health_but_not_in_the_overall_status(
    make_database: Callable[[str], Database], topology: Topology, postgres_url: str,
) -> None:
    billing = make_database("billing")
    settings = Settings(mode=Mode.SERVICES, database_url=postgres_url,
                        amqp_url="amqp://guest:guest@127.0.0.1:1/%2F",
                        health_probe_interval_seconds=0.1, grace_period_seconds=1,
                        bus_reconnect_max_delay_seconds=0.2)
    bus = build_service_bus(settings, "billing", billing, [], topology=topology)
    with hosted(settings, billing, bus) as status:
        assert wait_until(lambda: status("") == SERVING, 5)
        assert status(BUS_HEALTH_SERVICE) == NOT_SERVING
        assert "reconnecting" in bus.describe()
