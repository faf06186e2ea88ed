"""OpenTelemetry tracing: one melding is one trace, from intake's SubmitMelding call to the notifier's call to the
region's case system (docs/architecture.md, "Observability").

Off by default, and then free: `setup_tracing` installs no SDK, every helper here returns at its first line (no span
object, no context switch, no header), and nothing is stored. `OTEL_TRACES_EXPORTER` turns it on:

  none (default)  off
  console         each finished span as one JSON line on stderr, or appended to the file VT_TRACES_FILE when set
                  (the tests give each process its own file)
  otlp            OTLP over gRPC to OTEL_EXPORTER_OTLP_ENDPOINT (the SDK's own variables: headers, certificate,
                  timeout), batched in the background

The W3C trace context (`traceparent`, `tracestate`) travels:
  * in gRPC metadata: vtkit.grpcobs's server interceptor continues the caller's trace, its client interceptor
    passes the current one on;
  * in Kafka record headers: a consumer's span (`consumer_span`) is the child of the record's producer span, and a
    producer span (`producer_span`) is the child of whatever made the record;
  * across an outbox, whose relay sends later and in batches: the row keeps the context it was written in
    (`carrier()` into a column, or the record's own headers in vtkit.outbox_store.SqliteOutbox), and the relay's
    producer span continues it (vtkit.outbox). The notifier's deliveries keep theirs the same way.
The trace headers are outside what a record signature covers (vtkit.signing signs `ce_*` headers, key and value),
so a relay may set them after signing.

What a span carries: names made of a topic or an RPC method, and ids that name no person (event id, tenant, topic,
partition, offset, gRPC status). Never a name, a BSN, an address, a text or a person id: spans leave the
organisation's boundary with the exporter.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger("vtkit.tracing")

EXPORTER_ENV = "OTEL_TRACES_EXPORTER"
FILE_ENV = "VT_TRACES_FILE"
TRACE_HEADERS = ("traceparent", "tracestate")
_PROPAGATOR = TraceContextTextMapPropagator()
_enabled = False
_tracer: trace.Tracer = trace.NoOpTracer()
_provider: Any = None

Headers = Sequence[tuple[str, bytes]]


def enabled() -> bool:
    return _enabled


def setup_tracing(service: str, environ: Mapping[str, str] | None = None, exporter: Any = None) -> bool:
    """Install the SDK with the exporter the environment names (or `exporter`, a SpanExporter: the unit tests' in-memory
    one); False (and nothing installed) when tracing is off."""
    global _enabled, _tracer, _provider
    environ = os.environ if environ is None else environ
    exporter_name = "given" if exporter is not None else environ.get(EXPORTER_ENV, "none").strip().lower() or "none"
    if exporter_name == "none":
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if exporter is not None:
        processor: Any = SimpleSpanProcessor(exporter)
    elif exporter_name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        out: IO[str] = open(environ[FILE_ENV], "a", buffering=1) if environ.get(FILE_ENV) else sys.stderr  # noqa: SIM115
        console = ConsoleSpanExporter(out=out, formatter=lambda span: json.dumps(json.loads(span.to_json())) + "\n")
        processor = SimpleSpanProcessor(console)  # written when the span ends: a test reads it at once
    elif exporter_name == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter())
    else:
        raise ValueError(f"{EXPORTER_ENV}={exporter_name!r}: one of none, console, otlp")
    _provider = TracerProvider(resource=Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME", service)}))
    _provider.add_span_processor(processor)
    _tracer = _provider.get_tracer("vtkit")
    _enabled = True
    log.info("tracing on", extra={"exporter": exporter_name})
    return True


def shutdown() -> None:
    """Flush and stop the exporter (the batch exporter sends what it holds)."""
    global _enabled, _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _enabled, _tracer, _provider = False, trace.NoOpTracer(), None


def tracer() -> trace.Tracer:
    return _tracer


# ---- the W3C context as headers, metadata and stored text ---------------------------------------------------------

def headers_with_context(headers: Headers, ctx: otel_context.Context | None = None) -> list[tuple[str, bytes]]:
    """`headers` with the trace headers of `ctx` (default: the current context) in place of any earlier ones.
    Unchanged when tracing is off or no span is active."""
    if not _enabled:
        return list(headers)
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=ctx)
    if not carrier:
        return list(headers)
    kept = [(name, value) for name, value in headers if name not in TRACE_HEADERS]
    return kept + [(name, value.encode()) for name, value in carrier.items()]


def context_from_headers(headers: Headers | None) -> otel_context.Context | None:
    """The trace context a record's headers carry; None when they carry none (or tracing is off)."""
    if not _enabled or not headers:
        return None
    carrier = {name: value.decode("ascii", "replace") for name, value in headers
               if name in TRACE_HEADERS and value is not None}
    return _PROPAGATOR.extract(carrier) if "traceparent" in carrier else None


def context_from_metadata(metadata: Sequence[tuple[str, Any]] | None) -> otel_context.Context | None:
    """The caller's trace context from gRPC invocation metadata (keys are lower case)."""
    if not _enabled or not metadata:
        return None
    carrier = {key: value for key, value in metadata if key in TRACE_HEADERS and isinstance(value, str)}
    return _PROPAGATOR.extract(carrier) if "traceparent" in carrier else None


def metadata_with_context(metadata: Sequence[tuple[str, Any]] | None) -> tuple[tuple[str, Any], ...]:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return tuple(metadata or ()) + tuple(carrier.items())


def carrier() -> str:
    """The current trace context as text to store with a row that is sent later ('' when none: the row starts no
    trace of its own when it is sent)."""
    if not _enabled:
        return ""
    values: dict[str, str] = {}
    _PROPAGATOR.inject(values)
    return json.dumps(values, separators=(",", ":")) if values else ""


def context_from_carrier(text: str | None) -> otel_context.Context | None:
    if not _enabled or not text:
        return None
    try:
        values = json.loads(text)
    except ValueError:
        return None
    return _PROPAGATOR.extract(values) if isinstance(values, dict) and "traceparent" in values else None


def carrier_headers(text: str | None) -> list[tuple[str, bytes]]:
    """A stored carrier as record headers (what the relay's producer span continues)."""
    if not text:
        return []
    try:
        values = json.loads(text)
    except ValueError:
        return []
    return [(name, str(values[name]).encode()) for name in TRACE_HEADERS if isinstance(values, dict) and name in values]


# ---- spans ------------------------------------------------------------------------------------------------------

def _kafka_attributes(topic: str, event_id: str = "", tenant: str = "") -> dict[str, Any]:
    attributes: dict[str, Any] = {"messaging.system": "kafka", "messaging.destination.name": topic}
    if event_id:
        attributes["messaging.message.id"] = event_id
    if tenant:
        attributes["vt.tenant"] = tenant
    return attributes


def _header(headers: Headers | None, name: str) -> str:
    for key, value in headers or ():
        if key == name and value is not None:
            return value.decode("utf-8", "replace")
    return ""


@contextlib.contextmanager
def consumer_span(topic: str, headers: Headers | None, consumer: str, partition: int | None = None,
                  offset: int | None = None) -> Iterator[Span | None]:
    """The span of handling one consumed record, the child of the span that produced it; current inside the block
    (what the handler produces or stores continues this trace). Nothing when tracing is off."""
    if not _enabled:
        yield None
        return
    attributes = _kafka_attributes(topic, _header(headers, "ce_id"), _header(headers, "ce_tenant"))
    attributes["messaging.operation.type"] = "process"
    attributes["messaging.consumer.group.name"] = consumer
    if partition is not None:
        attributes["messaging.destination.partition.id"] = str(partition)
    if offset is not None:
        attributes["messaging.kafka.offset"] = offset
    with _tracer.start_as_current_span(f"process {topic}", context=context_from_headers(headers), kind=SpanKind.CONSUMER,
                                       attributes=attributes, record_exception=False,
                                       set_status_on_exception=False) as span:
        with _error_type(span):
            yield span


def start_producer_span(topic: str, headers: Headers, parent: otel_context.Context | None = None,
                        parent_from_headers: bool = False) -> tuple[Span | None, list[tuple[str, bytes]]]:
    """A producer span for one record and the record's headers carrying it. Its parent: `parent`, else the context
    in `headers` when `parent_from_headers` (an outbox row's stored context), else the current one. Without such a
    context there is no trace to continue: no span, headers unchanged (a background send, e.g. the audit copy, starts
    no trace of its own).
    The caller ends the span when the broker acknowledged the record (`end_span`)."""
    if not _enabled:
        return None, list(headers)
    if parent is None and parent_from_headers:
        parent = context_from_headers(headers)
        if parent is None:
            return None, list(headers)
    elif parent is None and not trace.get_current_span().get_span_context().is_valid:
        return None, list(headers)  # traces start where work comes in (a call, a record), not at a send
    span = _tracer.start_span(f"send {topic}", context=parent, kind=SpanKind.PRODUCER,
                              attributes={**_kafka_attributes(topic, _header(headers, "ce_id"), _header(headers, "ce_tenant")),
                                          "messaging.operation.type": "send"})
    return span, headers_with_context(headers, trace.set_span_in_context(span))


def end_span(span: Span | None, error: BaseException | None = None) -> None:
    if span is None:
        return
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))  # the type only: a message may quote data
    span.end()


def end_when_done(span: Span | None, future: Any) -> None:
    """End `span` when the producer's future resolves (the broker's acknowledgement or its refusal)."""
    if span is None:
        return

    def done(f: Any) -> None:
        end_span(span, None if f.cancelled() else f.exception())

    future.add_done_callback(done)


@contextlib.contextmanager
def span(name: str, parent: otel_context.Context | None = None, kind: SpanKind = SpanKind.INTERNAL,
         attributes: Mapping[str, Any] | None = None,
         linked: Sequence[otel_context.Context | None] = ()) -> Iterator[Span | None]:
    """An internal span (current inside the block); nothing when tracing is off. Attributes: ids only. `linked`: the
    contexts of other spans this one also serves (a batch: its parent is the first item's span, the others' are
    links)."""
    if not _enabled:
        yield None
        return
    links = [trace.Link(c) for c in (trace.get_current_span(ctx).get_span_context() for ctx in linked if ctx)
             if c.is_valid]
    with _tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attributes, links=links,
                                       record_exception=False, set_status_on_exception=False) as current:
        with _error_type(current):
            yield current


@contextlib.contextmanager
def _error_type(current: Span) -> Iterator[None]:
    """An exception marks the span failed with its type only: neither its message nor its traceback (with the
    values of a frame) go into a span; they may quote what a record says."""
    try:
        yield
    except BaseException as exc:
        current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise


def current_context() -> otel_context.Context | None:
    """The current context to continue later (a staged output); None with tracing off."""
    return otel_context.get_current() if _enabled else None


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the active span, for log lines; None when there is none."""
    if not _enabled:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
