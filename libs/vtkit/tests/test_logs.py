"""JSON log lines through structlog (vtkit.logs): the shape ops tooling reads, one line per record from any logger
(faust's and aiokafka's too) with the whole traceback, and the trace ids of the active span."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from vtkit import tracing
from vtkit.logs import setup_logging


@pytest.fixture()
def lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("radar")
    out = io.StringIO()
    root.handlers[0].setStream(out)  # type: ignore[attr-defined]
    try:
        yield out
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()


def parsed(out: io.StringIO) -> list[dict[str, object]]:
    """The lines, less the one saying tracing is on."""
    return [line for line in map(json.loads, out.getvalue().splitlines()) if line["logger"] != "vtkit.tracing"]


def fail_inside_the_client() -> None:
    try:
        raise ConnectionError("broker gone")
    except ConnectionError as cause:
        raise RuntimeError("fetch failed") from cause


def test_an_exception_from_a_kafka_library_logger_is_one_line_with_the_whole_traceback_and_trace_ids(
        lines: io.StringIO) -> None:
    exporter = InMemorySpanExporter()
    tracing.setup_tracing("radar", environ={}, exporter=exporter)
    try:
        with tracing.consumer_span("vt.national.assessments.v1", [("ce_id", b"ev-1")], "radar.assessments") as span:
            for name in ("aiokafka.consumer.fetcher", "faust.agents"):
                try:
                    fail_inside_the_client()
                except RuntimeError:
                    logging.getLogger(name).exception("unexpected error in fetcher", extra={"topic": "t"})
    finally:
        tracing.shutdown()
    assert span is not None
    context = span.get_span_context()
    assert len(parsed(lines)) == 2  # one line per record, the traceback inside it
    for line, name in zip(parsed(lines), ("aiokafka.consumer.fetcher", "faust.agents"), strict=True):
        assert list(line)[:5] == ["time", "level", "service", "logger", "msg"]
        assert line["level"] == "error" and line["service"] == "radar" and line["logger"] == name
        assert line["msg"] == "unexpected error in fetcher" and line["topic"] == "t"
        assert line["error"] == "RuntimeError: fetch failed"
        traceback = str(line["traceback"])
        assert traceback.startswith("Traceback (most recent call last):")
        assert "ConnectionError: broker gone" in traceback and "direct cause" in traceback
        assert "in fail_inside_the_client" in traceback
        assert line["trace_id"] == format(context.trace_id, "032x")
        assert line["span_id"] == format(context.span_id, "016x")


def test_lines_keep_their_shape_without_a_span_or_exception(lines: io.StringIO) -> None:
    logging.getLogger("intake").info("listening", extra={"grpc": "127.0.0.1:1234", "tenant": "groningen"})
    logging.getLogger("grpc._cython.cygrpc").warning("%s handshakes", 3)
    logging.getLogger("aiokafka").info("not shown: below the level set for the noisy libraries")
    structlog.get_logger("vtkit.demo").info("structlog too", tenant="drenthe")
    first, second, third = parsed(lines)
    assert first == {"time": first["time"], "level": "info", "service": "radar", "logger": "intake", "msg": "listening",
                     "grpc": "127.0.0.1:1234", "tenant": "groningen"}
    assert second["msg"] == "3 handshakes" and second["level"] == "warning" and "trace_id" not in second
    assert third["logger"] == "vtkit.demo" and third["msg"] == "structlog too" and third["tenant"] == "drenthe"
