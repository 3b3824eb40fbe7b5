"""One trace from the RPC that wrote an event to the consumer that handled it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures

import grpc
import pytest
from opentelemetry.instrumentation.grpc import server_interceptor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pivotal_runtime.bus.consumer import AmqpConsumer
from pivotal_runtime.bus.dispatch import Dispatcher
from pivotal_runtime.bus.publisher import AmqpPublisher
from pivotal_runtime.bus.relay import OutboxRelay
from pivotal_runtime.bus.topology import Topology
from pivotal_runtime.db import Database

from tests.bus.support import effect_counts, effect_subscription, organization_created, wait_until

pytestmark = pytest.mark.integration


def serve_register_organization(database: Database) -> tuple[grpc.Server, int]:
    """A gRPC server, instrumented like the service hosts, whose one RPC writes an event."""

    def register(request: bytes, context: grpc.ServicerContext) -> bytes:
        event, organization = organization_created("Traced")
        with database.unit_of_work() as uow:
            uow.add_event(event, aggregate_id=organization, organization_id=organization)
            uow.commit()
        return b""

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2),
                         interceptors=[server_interceptor()])
    handler = grpc.unary_unary_rpc_method_handler(register)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "pivotal.testing.v1.Registration", {"Register": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def test_the_consumer_span_joins_the_trace_of_the_producing_rpc(
    span_exporter: InMemorySpanExporter, make_database: Callable[[str], Database],
    topology: Topology, amqp_url: str,
) -> None:
    producer, billing = make_database("identity"), make_database("billing")
    publisher = AmqpPublisher(amqp_url, topology, service="identity")
    consumer = AmqpConsumer(amqp_url, topology,
                            Dispatcher("billing", billing, [effect_subscription()]),
                            service="billing")
    relay = OutboxRelay(producer, publisher, service="identity", poll_interval=0.05)
    server, port = serve_register_organization(producer)
    publisher.start()
    consumer.start()
    relay.start()
    try:
        assert publisher.wait_ready(10) and wait_until(lambda: consumer.link.up, 10)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            channel.unary_unary("/pivotal.testing.v1.Registration/Register")(b"", timeout=5)
        assert wait_until(lambda: effect_counts(billing) == (1, 1), 10)
    finally:
        relay.stop()
        consumer.stop()
        publisher.stop()
        server.stop(0)

    spans = span_exporter.get_finished_spans()
    [rpc] = [s for s in spans if s.name == "/pivotal.testing.v1.Registration/Register"]
    trace_id = rpc.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    [publish] = [s for s in in_trace if s.kind is SpanKind.PRODUCER]
    [process] = [s for s in in_trace if s.kind is SpanKind.CONSUMER]
    assert rpc.kind is SpanKind.SERVER
    assert publish.parent.span_id == rpc.context.span_id
    assert process.parent.span_id == publish.context.span_id
    assert process.name == "process pivotal.identity.v1.OrganizationCreated"
    assert process.attributes["messaging.message.id"] == publish.attributes["messaging.message.id"]
