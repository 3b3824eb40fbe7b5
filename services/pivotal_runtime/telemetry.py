"""OpenTelemetry: the tracer provider of a process, and the W3C trace context for the outbox."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from pivotal_runtime.settings import Settings


def configure_tracing(settings: Settings, service_name: str = "pivotal-flow", *,
                      exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Installs the process's tracer provider (see `tracer_provider`) and returns it."""
    provider = tracer_provider(settings, service_name, exporter=exporter)
    if provider is not None:
        trace.set_tracer_provider(provider)
    return provider


def tracer_provider(settings: Settings, service_name: str = "pivotal-flow", *,
                    exporter: SpanExporter | None = None) -> TracerProvider | None:
    """A tracer provider exporting to the OTLP collector at `settings.otlp_endpoint` when it
    is set, and to `exporter` when one is given (tests pass an in-memory exporter). With
    neither, spans are still created (nothing is exported) so that every log line, outbox row
    and event carries a real trace id.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(
            endpoint=settings.otlp_endpoint,
            insecure=not settings.otlp_endpoint.startswith("https://"),
        )))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
