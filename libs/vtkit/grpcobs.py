"""gRPC metrics and trace spans, server and client side, as grpc.aio interceptors (docs/architecture.md,
"Observability").

Why interceptors of our own on prometheus-client rather than a package: py-grpc-prometheus has been unmaintained for
years and has no grpc.aio interceptor; opentelemetry-instrumentation-grpc (still a 0.x beta) would bring the OTel
metrics SDK plus a Prometheus exporter bridge to put the same counters on the /metrics that prometheus-client already
serves, and its aio interceptors would do the spans we do here in a few lines. One small module, no new dependency
besides opentelemetry-api/-sdk for the spans, and the metrics exist whether tracing is on or not.

Metrics (labels name services and methods, never a caller or anything of a request):
  vt_grpc_server_started_total{grpc_service, grpc_method}
  vt_grpc_server_handled_total{grpc_service, grpc_method, grpc_code}
  vt_grpc_server_handling_seconds{grpc_service, grpc_method}  histogram
  vt_grpc_client_handled_total{grpc_service, grpc_method, grpc_code}
  vt_grpc_client_handling_seconds{grpc_service, grpc_method}  histogram

The server interceptor is a grpc.aio.ServerInterceptor (the servers are grpc.aio servers: the sync
grpc.ServerInterceptor does not apply to them) that wraps the handler the inner interceptors and the servicer
return, so calls refused by authentication (UNAUTHENTICATED) and aborted by servicers (context.abort) are counted
with their code. The client interceptor is a grpc.aio.UnaryUnaryClientInterceptor: every call between the suite's
services is unary; the streaming health Watch and reflection of the tools are not counted.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from opentelemetry.trace import SpanKind, Status, StatusCode

from vtkit import tracing
from vtkit.metrics import (
    GRPC_CLIENT_HANDLED,
    GRPC_CLIENT_SECONDS,
    GRPC_SERVER_HANDLED,
    GRPC_SERVER_SECONDS,
    GRPC_SERVER_STARTED,
    child,
)

UNTRACED = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def split_method(method: str) -> tuple[str, str]:
    """"/vt.intake.v1.IntakeService/SubmitMelding" -> ("vt.intake.v1.IntakeService", "SubmitMelding")."""
    service, _, name = method.strip("/").partition("/")
    return service or "unknown", name or "unknown"


def _code_name(code: Any) -> str:
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):  # grpc.aio's context.code() may answer the int of the enum
        for status in grpc.StatusCode:
            if status.value[0] == code:
                return status.name
    return "UNKNOWN"


def _rpc_attributes(service: str, method: str) -> dict[str, Any]:
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}


class ServerObservability(grpc.aio.ServerInterceptor):
    """Counts and times every call by service, method and status code; with tracing on, each call is a SERVER span
    continuing the caller's trace (its `traceparent` metadata), current while the servicer runs."""

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        service, method = split_method(details.method)
        metadata = details.invocation_metadata
        # Health probes and reflection are counted but start no trace (a probe every few seconds is no work).
        traced = not details.method.startswith(UNTRACED)

        def observed(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            if inspect.isasyncgenfunction(behaviour):
                async def streamed(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                    # No span for a stream (a health Watch lasts as long as its client): metrics only.
                    with _ServerCall(service, method, metadata, context, details.method, traced=False):
                        async for response in behaviour(request, context):
                            yield response
                return streamed

            async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                with _ServerCall(service, method, metadata, context, details.method, traced):
                    return await behaviour(request, context)
            return unary

        serializers = {"request_deserializer": handler.request_deserializer,
                       "response_serializer": handler.response_serializer}
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(observed(handler.unary_unary), **serializers)
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(observed(handler.unary_stream), **serializers)
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(observed(handler.stream_unary), **serializers)
        return grpc.stream_stream_rpc_method_handler(observed(handler.stream_stream), **serializers)


class _ServerCall:
    """One server call's metrics and span (a context manager around the servicer)."""

    __slots__ = ("service", "method", "metadata", "context", "path", "traced", "started", "_span_manager", "_span")

    def __init__(self, service: str, method: str, metadata: Any, context: grpc.aio.ServicerContext, path: str,
                 traced: bool = True):
        self.service, self.method, self.metadata, self.context, self.path = service, method, metadata, context, path
        self.traced = traced
        self._span_manager: Any = None
        self._span: Any = None

    def __enter__(self) -> None:
        child(GRPC_SERVER_STARTED, self.service, self.method).inc()
        self.started = time.perf_counter()
        if self.traced and tracing.enabled():
            self._span_manager = tracing.tracer().start_as_current_span(
                self.path.lstrip("/"), context=tracing.context_from_metadata(self.metadata), kind=SpanKind.SERVER,
                attributes=_rpc_attributes(self.service, self.method), record_exception=False,
                set_status_on_exception=False)
            self._span = self._span_manager.__enter__()

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        code = self.context.code()
        if code is None:
            code = (grpc.StatusCode.OK if kind is None else
                    grpc.StatusCode.CANCELLED if issubclass(kind, asyncio.CancelledError) else grpc.StatusCode.UNKNOWN)
        name = _code_name(code)
        child(GRPC_SERVER_HANDLED, self.service, self.method, name).inc()
        child(GRPC_SERVER_SECONDS, self.service, self.method).observe(time.perf_counter() - self.started)
        if self._span is not None:
            self._span.set_attribute("rpc.grpc.status_code", name)
            if name != "OK":
                # The code only: a status message may quote the request.
                self._span.set_status(Status(StatusCode.ERROR, name))
            self._span_manager.__exit__(None, None, None)


class ClientObservability(grpc.aio.UnaryUnaryClientInterceptor):
    """Counts and times every unary call a channel makes, by the callee's service, method and status code; with
    tracing on, each call is a CLIENT span whose context goes with the call's metadata."""

    async def intercept_unary_unary(self, continuation: Callable[..., Awaitable[Any]], details: Any,
                                    request: Any) -> Any:
        path = details.method.decode() if isinstance(details.method, bytes) else str(details.method)
        service, method = split_method(path)
        started = time.perf_counter()
        if not tracing.enabled():
            call = await continuation(details, request)
            code = await call.code()
            _client_done(service, method, code, started)
            return call
        with tracing.tracer().start_as_current_span(path.lstrip("/"), kind=SpanKind.CLIENT,
                                                    attributes=_rpc_attributes(service, method),
                                                    record_exception=False, set_status_on_exception=False) as span:
            details = details._replace(metadata=tracing.metadata_with_context(details.metadata))
            call = await continuation(details, request)
            code = await call.code()
            name = _client_done(service, method, code, started)
            span.set_attribute("rpc.grpc.status_code", name)
            if name != "OK":
                span.set_status(Status(StatusCode.ERROR, name))
        return call


def _client_done(service: str, method: str, code: Any, started: float) -> str:
    name = _code_name(code)
    child(GRPC_CLIENT_HANDLED, service, method, name).inc()
    child(GRPC_CLIENT_SECONDS, service, method).observe(time.perf_counter() - started)
    return name
