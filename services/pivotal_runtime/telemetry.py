"""OpenTelemetry helpers: the W3C trace context of the current span, for the outbox."""

from __future__ import annotations

from opentelemetry import propagate


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
