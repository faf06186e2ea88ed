"""The meldformulier's HTTP server as a hardened edge: a connection cap, header/idle and body timeouts, and a
request concurrency limit of its own, so that a flood of (half-sent) HTTP requests can neither exhaust the
process's file descriptors nor starve the gRPC server that shares the process (docs/architecture.md, "The
public form as an edge").

Why in-process and not a separate process: a separate process (or the ingress in front, see deploy/k8s) is the
strong form: its own file-descriptor table, CPU share and crash domain. The form stays in the intake process
because it calls the same use cases on the same SQLite store, outbox relay and NEN 7513 log, and the audit log
has one writer per file (a second process appending to it would fork its hash chain); splitting it off means a
form service that calls intake over gRPC as the region, a deployment change rather than an edge setting. Within
the process the web server therefore gets hard bounds that cannot reach the gRPC side's share:
  * at most `max_connections` open HTTP connections; one more is answered 503 and closed at once (its socket
    is released in the same loop iteration), and the accept backlog is small, so the web side holds at most
    max_connections + backlog descriptors, checked at start against the process's limit (RLIMIT_NOFILE): the
    web side may take at most half of it;
  * headers must arrive within `idle_timeout` of the connection opening or of the previous response (aiohttp's
    keepalive timer closes a connection whose request is not complete, including a request trickled byte by
    byte); a body must arrive within `body_timeout` (then 408 and the connection closed);
  * at most `max_concurrent_requests` requests are handled at once; a body is read before a slot is taken, so
    slow senders hold no slot; a request that waits `queue_timeout` for a slot gets 503 with Retry-After.
gRPC runs in grpcio's own threads (its completion queue) and answers health and calls while all of this is
refused; the aiohttp handlers run on the event loop gRPC's handlers share, which is why their number is bounded.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from vtkit import metrics

log = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# What a connection over the cap gets before it is closed (the request was not read, so no page can be chosen).
OVER_CAP = (b"Het is op dit moment erg druk op deze website. Probeer het over een minuut opnieuw, of bel gratis "
            b"0800-2000 (dag en nacht). Bij acuut gevaar: bel 112.\n")
OVER_CAP_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     b"Retry-After: 60\r\nCache-Control: no-store\r\nConnection: close\r\n"
                     b"Content-Length: " + str(len(OVER_CAP)).encode() + b"\r\n\r\n" + OVER_CAP)


@dataclass(frozen=True)
class EdgeLimits:
    max_connections: int = 256
    max_concurrent_requests: int = 16
    idle_timeout: float = 15.0
    body_timeout: float = 30.0
    queue_timeout: float = 5.0
    backlog: int = 64

    def check(self, fd_limit: int | None = None) -> None:
        """Refuses limits that would let the web side take more than half of the process's descriptors."""
        if min(self.max_connections, self.max_concurrent_requests, self.backlog) < 1:
            raise ValueError("HTTP limits need at least 1 connection, 1 concurrent request and a backlog of 1")
        if min(self.idle_timeout, self.body_timeout, self.queue_timeout) <= 0:
            raise ValueError("HTTP timeouts must be positive")
        limit = fd_limit if fd_limit is not None else resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if limit != resource.RLIM_INFINITY and self.max_connections + self.backlog > limit // 2:
            raise ValueError(f"HTTP_MAX_CONNECTIONS + HTTP_BACKLOG ({self.max_connections + self.backlog}) exceed "
                             f"half of the process's file descriptor limit ({limit}); the gRPC server needs the rest")


class _OverCap(asyncio.Protocol):
    """Answers 503 and closes: the connection never reaches aiohttp."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(OVER_CAP_RESPONSE)
        transport.close()


class CappedTCPSite(web.TCPSite):
    """aiohttp's TCPSite with a cap on open connections (aiohttp has none) and the given backlog."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, limits: EdgeLimits, tenant: str):
        super().__init__(runner, host, port, backlog=limits.backlog)
        self._cap, self._tenant = limits.max_connections, tenant

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner (what TCPSite.start does first)
        server = self._runner.server
        assert server is not None
        refusals = metrics.FORM_REFUSALS.labels(self._tenant, "connections")
        open_connections = metrics.FORM_CONNECTIONS.labels(self._tenant)

        def protocol() -> asyncio.BaseProtocol:
            # server.connections: aiohttp's handlers with an open connection (and those still finishing).
            count = len(server.connections)
            open_connections.set(count)
            if count >= self._cap:
                refusals.inc()
                return _OverCap()
            return server()

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(protocol, self._host, self._port, backlog=self._backlog,
                                                reuse_address=self._reuse_address, reuse_port=self._reuse_port)
        self._bound_port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port


def request_guard(limits: EdgeLimits, tenant: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Middleware: the body read under `body_timeout` (form posts only), then a request slot."""
    slots = asyncio.Semaphore(limits.max_concurrent_requests)

    @web.middleware
    async def guard(request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if request.method == "POST":
            if request.content_type != FORM_CONTENT_TYPE:
                raise web.HTTPUnsupportedMediaType()
            try:
                await asyncio.wait_for(request.read(), limits.body_timeout)  # cached: request.post() reuses it
            except TimeoutError:
                metrics.FORM_REFUSALS.labels(tenant, "body_timeout").inc()
                log.warning("form body not received in time", extra={"timeout_seconds": limits.body_timeout})
                raise web.HTTPRequestTimeout() from None
        try:
            await asyncio.wait_for(slots.acquire(), limits.queue_timeout)
        except TimeoutError:
            metrics.FORM_REFUSALS.labels(tenant, "busy").inc()
            log.warning("form request refused: all request slots busy",
                        extra={"slots": limits.max_concurrent_requests})
            raise web.HTTPServiceUnavailable(headers={"Retry-After": "30"}) from None
        try:
            return await handler(request)
        finally:
            slots.release()

    return guard
