"""The envelope as DESIGN.md fixes it, topic matching and the tracing switch (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from pivotal.identity.v1.events_pb2 import OrganizationCreated
from pivotal_runtime.bus.envelope import (
    CONTENT_TYPE,
    UndecodableMessage,
    decode_event,
    envelope_of,
    message_from_outbox,
)
from pivotal_runtime.bus.topology import PRODUCTION, queue_arguments, topic_matches
from pivotal_runtime.settings import Settings
from pivotal_runtime.telemetry import tracer_provider

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def outbox_row(**changes: object) -> SimpleNamespace:
    event = OrganizationCreated(organization_id="org-1", display_name="Acme")
    row = {"id": 42, "event_id": "6f1c0d1e-8d0c-4a55-a3a5-0c7d2b6c8e11",
           "event_type": "pivotal.identity.v1.OrganizationCreated",
           "aggregate_type": "organization", "aggregate_id": "org-1", "subject": "org-1",
           "organization_id": "org-1", "payload": event.SerializeToString(),
           "occurred_at": datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC),
           "request_id": "req-9", "traceparent": TRACEPARENT}
    row.update(changes)
    return SimpleNamespace(**row)


def test_message_carries_cloudevents_attributes_routing_key_and_protobuf_body() -> None:
    message = message_from_outbox(outbox_row(), "identity", TRACEPARENT)

    assert message.routing_key == "pivotal.identity.v1.OrganizationCreated"
    assert message.content_type == CONTENT_TYPE == "application/protobuf"
    assert message.message_id == "6f1c0d1e-8d0c-4a55-a3a5-0c7d2b6c8e11"
    assert message.headers["cloudEvents:specversion"] == "1.0"
    assert message.headers["cloudEvents:id"] == message.message_id
    assert message.headers["cloudEvents:type"] == "pivotal.identity.v1.OrganizationCreated"
    assert message.headers["cloudEvents:source"] == "/pivotal/identity"
    assert message.headers["cloudEvents:time"] == "2026-03-04T05:06:07.890000Z"
    assert message.headers["cloudEvents:subject"] == "org-1"
    assert message.headers["traceparent"] == TRACEPARENT
    assert OrganizationCreated.FromString(message.body).display_name == "Acme"


def test_sequence_is_the_outbox_id_and_sorts_as_text_too() -> None:
    earlier = message_from_outbox(outbox_row(id=9), "identity", None)
    later = message_from_outbox(outbox_row(id=10), "identity", None)

    assert earlier.headers["cloudEvents:sequence"] < later.headers["cloudEvents:sequence"]
    assert envelope_of(earlier).sequence == 9 and envelope_of(later).sequence == 10


def test_an_envelope_without_sequence_reads_as_zero() -> None:
    message = message_from_outbox(outbox_row(), "identity", None)
    del message.headers["cloudEvents:sequence"]

    assert envelope_of(message).sequence == 0


def test_envelope_reads_back_what_the_relay_wrote() -> None:
    message = message_from_outbox(outbox_row(), "identity", TRACEPARENT)

    envelope = envelope_of(message, delivery_count=2)

    assert envelope.id == message.message_id
    assert envelope.type == "pivotal.identity.v1.OrganizationCreated"
    assert envelope.source == "/pivotal/identity"
    assert envelope.time == datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    assert (envelope.subject, envelope.organization_id) == ("org-1", "org-1")
    assert (envelope.request_id, envelope.traceparent) == ("req-9", TRACEPARENT)
    assert envelope.delivery_count == 2


def test_missing_attributes_wrong_content_type_and_bad_bodies_are_undecodable() -> None:
    message = message_from_outbox(outbox_row(), "identity", None)
    headers = dict(message.headers)
    del headers["cloudEvents:id"]

    with pytest.raises(UndecodableMessage, match="cloudEvents:id"):
        envelope_of(type(message)(**{**message.__dict__, "headers": headers}))
    with pytest.raises(UndecodableMessage, match="content type"):
        envelope_of(type(message)(**{**message.__dict__, "content_type": "application/json"}))
    with pytest.raises(UndecodableMessage, match="OrganizationCreated"):
        decode_event(OrganizationCreated, b"\xff\xff\xff")


def test_topic_bindings_match_like_rabbitmq() -> None:
    assert topic_matches("pivotal.identity.v1.OrganizationCreated",
                         "pivotal.identity.v1.OrganizationCreated")
    assert not topic_matches("pivotal.identity.v1.OrganizationCreated",
                             "pivotal.identity.v1.OrganizationUpdated")
    assert topic_matches("pivotal.identity.#", "pivotal.identity.v1.UserLocked")
    assert topic_matches("pivotal.*.v1.UserLocked", "pivotal.identity.v1.UserLocked")
    assert not topic_matches("pivotal.*", "pivotal.identity.v1")


def test_production_names_follow_the_design() -> None:
    assert PRODUCTION.exchange == "pivotal.events"
    assert PRODUCTION.queue("billing") == "pivotal.billing"
    assert PRODUCTION.dead_letter_queue("billing") == "pivotal.billing.dlq"
    arguments = queue_arguments(PRODUCTION, "billing", 7)
    assert arguments["x-queue-type"] == "quorum"
    assert arguments["x-delivery-limit"] == 7
    assert arguments["x-dead-letter-exchange"] == "pivotal.billing.dlx"


def test_spans_are_exported_over_otlp_only_when_an_endpoint_is_set() -> None:
    local = tracer_provider(Settings())
    assert local is not None  # spans exist (trace ids in logs), nothing is exported
    assert local._active_span_processor._span_processors == ()
    provider = tracer_provider(Settings(otlp_endpoint="http://127.0.0.1:4317"), "pivotal-billing")
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "pivotal-billing"
    processors = provider._active_span_processor._span_processors
    assert [type(p).__name__ for p in processors] == ["BatchSpanProcessor"]
    provider.shutdown()
