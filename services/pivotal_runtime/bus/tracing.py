"""Producer and consumer spans, following the OpenTelemetry messaging conventions.

The relay's producer span is a child of the context stored in the outbox row (the span of the
RPC that wrote the event), and its own context is what the message carries in `traceparent`;
the consumer's span continues that context, so RPC → publish → process is one trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode

from pivotal_runtime.bus.envelope import TRACEPARENT, Envelope

tracer = trace.get_tracer("pivotal.bus")


def start_producer_span(event_type: str, event_id: str, exchange: str,
                        stored_traceparent: str | None) -> tuple[Span, str | None]:
    """Opens the publish span under the stored context; returns it and the traceparent to send.

    Without a tracer provider nothing is recorded: the stored context is sent as it is.
    """
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return INVALID_SPAN, stored_traceparent
    parent = propagate.extract({TRACEPARENT: stored_traceparent} if stored_traceparent else {})
    span = tracer.start_span(
        f"publish {event_type}",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "rabbitmq",
            "messaging.operation.type": "publish",
            "messaging.destination.name": exchange,
            "messaging.rabbitmq.destination.routing_key": event_type,
            "messaging.message.id": event_id,
        },
    )
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return span, carrier.get(TRACEPARENT, stored_traceparent)


def end_producer_spans(spans: list[Span], error: BaseException | None = None) -> None:
    for span in spans:
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, str(error)))
        span.end()


@contextmanager
def consumer_span(envelope: Envelope, consumer: str) -> Iterator[Span]:
    parent = propagate.extract({TRACEPARENT: envelope.traceparent} if envelope.traceparent else {})
    with tracer.start_as_current_span(
        f"process {envelope.type}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "rabbitmq",
            "messaging.operation.type": "process",
            "messaging.destination.name": consumer,
            "messaging.message.id": envelope.id,
            "messaging.rabbitmq.message.delivery_count": envelope.delivery_count,
            "pivotal.event.subject": envelope.subject,
        },
    ) as span:
        yield span
