"""OpenTelemetry tracing that follows an order across services through Kafka headers.

Spans always exist (so every log line has a trace id); exporting them is off unless configured.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()


def configure_tracing(*, service: str, exporter: str = "none", otlp_endpoint: str = "") -> None:
    """Install the SDK tracer provider; export to console or OTLP/HTTP only when asked.

    With no exporter, spans are not recorded (ALWAYS_OFF): they still get ids, so trace ids reach
    every log line and every outgoing traceparent, but nothing is built that nobody would read."""
    sampler = ALWAYS_OFF if exporter == "none" else ParentBased(ALWAYS_ON)
    provider = TracerProvider(resource=Resource.create({"service.name": f"dabba-{service}"}), sampler=sampler)
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
        )
    trace.set_tracer_provider(provider)
    _tracer.clear()


_tracer: list[trace.Tracer] = []


def tracer() -> trace.Tracer:
    """The Dabba tracer (looked up once: get_tracer is not free on a hot path)."""
    if not _tracer:
        _tracer.append(trace.get_tracer("dabba"))
    return _tracer[0]


def current_traceparent() -> tuple[str | None, str | None]:
    """The W3C traceparent/tracestate of the current span, to carry on an outgoing event."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate")


@contextmanager
def consume_span(
    name: str, *, traceparent: str | None, tracestate: str | None = None, **attributes: Any
) -> Iterator[Span]:
    """A CONSUMER span that continues the producer's trace (or starts one when there is none)."""
    carrier = {"traceparent": traceparent} if traceparent else {}
    if tracestate:
        carrier["tracestate"] = tracestate
    parent = _propagator.extract(carrier) if carrier else otel_context.Context()
    with tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id inside a traceparent header."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) >= 3 else None
