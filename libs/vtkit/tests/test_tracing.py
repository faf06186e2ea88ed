"""The trace context in Kafka record headers, gRPC metadata and stored outbox rows (vtkit.tracing): injected and
extracted as W3C `traceparent`/`tracestate`, outside what a record signature covers, and nothing at all when
tracing is off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from vtkit import topics, tracing
from vtkit.keystore import KeyStore, init_keys
from vtkit.signing import RecordVerifier, Signers

HEADERS = [("ce_id", b"ev-1"), ("ce_type", b"vt.intake.v1.MeldingReceived"), ("ce_tenant", b"groningen")]


@pytest.fixture()
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.setup_tracing("test", environ={}, exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown()


def ids(span: object) -> tuple[int, int]:
    context = span.get_span_context()  # type: ignore[attr-defined]
    return context.trace_id, context.span_id


def test_off_by_default_adds_nothing_and_extracts_nothing() -> None:
    assert not tracing.setup_tracing("test", environ={})
    assert not tracing.enabled()
    assert tracing.headers_with_context(HEADERS) == HEADERS
    assert tracing.start_producer_span("t", HEADERS) == (None, HEADERS)
    assert tracing.carrier() == "" and tracing.current_ids() is None
    with tracing.consumer_span("t", [*HEADERS, ("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01")],
                               "group") as span:
        assert span is None
    with pytest.raises(ValueError, match="one of none, console, otlp"):
        tracing.setup_tracing("test", environ={"OTEL_TRACES_EXPORTER": "zipkin"})


def test_headers_carry_the_context_from_a_producer_span_to_the_consumer_span(spans: InMemorySpanExporter) -> None:
    with tracing.span("request", kind=SpanKind.SERVER) as request:
        sent, headers = tracing.start_producer_span("vt.groningen.intake.v1", [*HEADERS, ("traceparent", b"stale")])
        tracing.end_span(sent)
    names = [n for n, _ in headers]
    assert names.count("traceparent") == 1 and names[:3] == ["ce_id", "ce_type", "ce_tenant"]
    traceparent = dict(headers)["traceparent"].decode()
    trace_id, span_id = ids(sent)
    assert traceparent.startswith(f"00-{trace_id:032x}-{span_id:016x}-")  # then the flags: sampled
    assert ids(sent)[0] == ids(request)[0]

    with tracing.consumer_span("vt.groningen.intake.v1", headers, "radar.intake", partition=2, offset=7) as consumed:
        assert tracing.current_ids() == (f"{trace_id:032x}", f"{ids(consumed)[1]:016x}")
    finished = {s.name: s for s in spans.get_finished_spans()}
    process = finished["process vt.groningen.intake.v1"]
    assert process.kind == SpanKind.CONSUMER and process.parent is not None
    assert process.parent.span_id == span_id and process.context.trace_id == trace_id
    assert dict(process.attributes or {}) == {
        "messaging.system": "kafka", "messaging.destination.name": "vt.groningen.intake.v1",
        "messaging.message.id": "ev-1", "vt.tenant": "groningen", "messaging.operation.type": "process",
        "messaging.consumer.group.name": "radar.intake", "messaging.destination.partition.id": "2",
        "messaging.kafka.offset": 7}
    assert finished["send vt.groningen.intake.v1"].kind == SpanKind.PRODUCER


def test_a_stored_context_is_continued_later_and_a_row_without_one_starts_no_trace(spans: InMemorySpanExporter) -> None:
    with tracing.span("SubmitMelding", kind=SpanKind.SERVER) as request:
        stored = tracing.carrier()
    assert stored and "traceparent" in stored
    # The relay, later and outside any span: the row's headers carry the stored context.
    row_headers = HEADERS + tracing.carrier_headers(stored)
    sent, headers = tracing.start_producer_span("t", row_headers, parent_from_headers=True)
    tracing.end_span(sent)
    assert sent is not None and sent.parent is not None  # type: ignore[attr-defined]
    assert sent.parent.span_id == ids(request)[1]  # type: ignore[attr-defined]
    assert tracing.context_from_headers(headers) is not None
    assert tracing.start_producer_span("t", HEADERS, parent_from_headers=True) == (None, HEADERS)
    assert tracing.start_producer_span("t", HEADERS) == (None, HEADERS)  # no span active: a background send
    assert tracing.carrier_headers("not json") == [] and tracing.context_from_carrier("{}") is None


def test_grpc_metadata_carries_the_context(spans: InMemorySpanExporter) -> None:
    with tracing.span("call", kind=SpanKind.CLIENT) as client:
        metadata = tracing.metadata_with_context((("authorization", "Bearer x"),))
    assert metadata[0] == ("authorization", "Bearer x") and metadata[1][0] == "traceparent"
    parent = tracing.context_from_metadata(metadata)
    with tracing.span("server", parent=parent, kind=SpanKind.SERVER) as server:
        pass
    assert server is not None and server.parent.span_id == ids(client)[1]  # type: ignore[attr-defined]
    assert tracing.context_from_metadata((("authorization", "x"),)) is None


def test_trace_headers_added_after_signing_leave_the_signature_valid(spans: InMemorySpanExporter,
                                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    keys: KeyStore = init_keys(tmp_path_factory.mktemp("keys"))
    topic, key, value = topics.intake("groningen"), b"case-1", b"\x0a\x03abc"
    signed = Signers(keys.root).headers(topic, key, value, HEADERS)
    with tracing.span("SubmitMelding"):
        span, headers = tracing.start_producer_span(topic, signed)
    tracing.end_span(span)
    assert "traceparent" in dict(headers)
    assert RecordVerifier.load(keys.root).check(topic, key, value, headers) == "groningen"


def test_an_error_marks_the_span_with_its_type_only(spans: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError), tracing.consumer_span("t", HEADERS, "group"):
        raise ValueError("BSN 123456782 of Petra")
    [span] = spans.get_finished_spans()
    assert span.status.description == "ValueError" and not span.events  # no message, no traceback
