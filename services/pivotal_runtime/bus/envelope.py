"""The envelope of an event on the bus: CloudEvents 1.0 in the AMQP binding's binary mode.

The body is the binary protobuf message; the CloudEvents attributes travel as application
properties (AMQP 0-9-1 headers) prefixed `cloudEvents:`; the routing key is the event's full
protobuf type name; W3C trace context travels in the `traceparent` header. The CloudEvents
`sequence` extension is the outbox row id, zero-padded so that it also sorts as text: it
increases with every event one source writes (docs/events.md says how consumers use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import DecodeError, Message

CONTENT_TYPE = "application/protobuf"
SPEC_VERSION = "1.0"
CE = "cloudEvents:"
TRACEPARENT = "traceparent"
SEQUENCE_DIGITS = 20  # an int64 has at most 19 digits


@dataclass(frozen=True)
class BusMessage:
    """A message as the broker carries it, independent of the client library."""

    routing_key: str
    body: bytes
    headers: dict[str, Any]
    message_id: str
    content_type: str = CONTENT_TYPE
    timestamp: int | None = None
    app_id: str | None = None


@dataclass(frozen=True)
class Envelope:
    """What a handler learns about the event besides its payload."""

    id: str
    type: str
    source: str
    time: datetime
    subject: str
    sequence: int = 0  # 0 when the producer sent none
    organization_id: str = ""
    request_id: str | None = None
    traceparent: str | None = None
    delivery_count: int = 0
    headers: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


class UndecodableMessage(ValueError):
    """The message is not a Pivotal Flow event: missing attributes, wrong content type, bad body."""


def source_of(service: str) -> str:
    return f"/pivotal/{service}"


def message_from_outbox(row: Any, service: str, traceparent: str | None) -> BusMessage:
    """The message for an outbox row; `traceparent` is the context to propagate."""
    occurred: datetime = row.occurred_at
    headers: dict[str, Any] = {
        f"{CE}specversion": SPEC_VERSION,
        f"{CE}id": row.event_id,
        f"{CE}type": row.event_type,
        f"{CE}source": source_of(service),
        f"{CE}time": occurred.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        f"{CE}subject": row.subject,
        f"{CE}sequence": f"{row.id:0{SEQUENCE_DIGITS}d}",
        f"{CE}organizationid": row.organization_id,
        f"{CE}aggregatetype": row.aggregate_type,
    }
    if row.request_id:
        headers[f"{CE}requestid"] = row.request_id
    if traceparent:
        headers[TRACEPARENT] = traceparent
    return BusMessage(
        routing_key=row.event_type,
        body=bytes(row.payload),
        headers=headers,
        message_id=row.event_id,
        timestamp=int(occurred.timestamp()),
        app_id=service,
    )


def envelope_of(message: BusMessage, delivery_count: int = 0) -> Envelope:
    headers = message.headers
    try:
        if message.content_type != CONTENT_TYPE:
            raise UndecodableMessage(f"content type {message.content_type!r} is not {CONTENT_TYPE}")
        return Envelope(
            id=_text(headers, "id"),
            type=_text(headers, "type"),
            source=_text(headers, "source"),
            time=datetime.fromisoformat(_text(headers, "time")),
            subject=_text(headers, "subject"),
            sequence=int(_optional(headers, f"{CE}sequence") or 0),
            organization_id=_optional(headers, f"{CE}organizationid") or "",
            request_id=_optional(headers, f"{CE}requestid"),
            traceparent=_optional(headers, TRACEPARENT),
            delivery_count=delivery_count,
            headers=dict(headers),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, UndecodableMessage):
            raise
        raise UndecodableMessage(f"bad CloudEvents attributes: {error}") from error


def decode_event(message_class: type[Message], body: bytes) -> Message:
    event = message_class()
    try:
        event.ParseFromString(body)
    except DecodeError as error:
        raise UndecodableMessage(
            f"body is not a valid {message_class.DESCRIPTOR.full_name}: {error}"
        ) from error
    return event


def _text(headers: dict[str, Any], attribute: str) -> str:
    value = _optional(headers, f"{CE}{attribute}")
    if not value:
        raise KeyError(f"{CE}{attribute} is missing")
    return value


def _optional(headers: dict[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, bytes):
        value = value.decode()
    return None if value is None else str(value)
