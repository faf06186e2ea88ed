"""A gRPC server with health checking, reflection and caller authentication by mutual TLS.

Every server requires a client certificate issued by the suite's CA (vtkit.pki) and presents its
own server certificate `<key_dir>/pki/servers/<name>.pem`. The dev flag VT_GRPC_PLAINTEXT=1 turns
this off: the server listens in plaintext, logs a warning, and accepts the bearer tokens of
tokens.json instead (vtkit.auth.TokenAuthInterceptor).

GRPC_HEALTH_PORT (a deployment sets it; unset by default) adds a second, plaintext listener that serves the
standard health service (grpc.health.v1.Health) and nothing else, sharing the main server's statuses: kubelet's
built-in `grpc:` probe speaks neither TLS nor mutual TLS, and an answer of SERVING/NOT_SERVING discloses nothing.

Refused TLS handshakes. grpcio gives Python no event for a failed handshake (no client certificate, one the CA did
not sign, an expired one): grpc core drops the connection before any interceptor or servicer sees it, and logs
"Handshake failed ..." only at GRPC_VERBOSITY=info, without the peer's address. What Python can see:
  * every handshake the server starts: the server's credentials are dynamic (grpc.dynamic_ssl_server_credentials)
    and grpcio calls their certificate fetcher once per new connection before the handshake, so
    vt_grpc_tls_handshakes_total{server} counts handshakes attempted, exactly;
  * every connection that completed one, at its first unary call (PeerCounter below: a peer address seen for the
    first time), vt_grpc_tls_peers_total{server}.
Their difference is the refused handshakes plus connections that never made a call (or whose address was seen
before); an alert on its rate is what operations can have. Who was refused is not known: no certificate was
verified, so there is no organisation to audit. Calls refused after a handshake (UNAUTHENTICATED) are counted and
audited exactly (vtkit.auth, `audit_refusals`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from vtkit import metrics, pki
from vtkit.audit import AuditLog
from vtkit.auth import (
    PLAINTEXT_FLAG,
    CertAuthInterceptor,
    Delegates,
    OnRefused,
    TokenAuthInterceptor,
    peer_certificate_names,
    plaintext_enabled,
)
from vtkit.channels import client_channel, server_probe_channel
from vtkit.grpcguard import RequestGuard
from vtkit.grpcobs import ServerObservability
from vtkit.keystore import KeyStore

log = logging.getLogger("vtkit.grpcserver")
HEALTH_PORT_ENV = "GRPC_HEALTH_PORT"
# The identity health checks and reflection use: any CA-issued certificate is accepted there.
PROBE_IDENTITY = ("national", "operations")


class PeerCounter(grpc.aio.ServerInterceptor):
    """Counts connections at their first unary call: a peer address ("ipv4:127.0.0.1:54321") not seen among the
    last `remembered` ones. Approximate by nature (module docstring); costs one dict lookup per call."""

    def __init__(self, server: str, remembered: int = 10_000):
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered
        self._peers = metrics.GRPC_TLS_PEERS.labels(server)

    def _saw(self, peer: str) -> None:
        if peer in self._seen:
            self._seen.move_to_end(peer)
            return
        self._peers.inc()
        self._seen[peer] = None
        if len(self._seen) > self._remembered:
            self._seen.popitem(last=False)

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary

        async def counted(request: Any, context: grpc.aio.ServicerContext) -> Any:
            self._saw(context.peer())
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(counted, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)


def audit_refusal(audit: AuditLog) -> OnRefused:
    """The NEN 7513 record of a call refused UNAUTHENTICATED whose caller presented a CA-verified certificate (one
    that names no client organisation, e.g. a server certificate): it names what the certificate names."""

    async def record(context: grpc.aio.ServicerContext, method: str, reason: str) -> None:
        names = peer_certificate_names(context)
        if names is None:  # nobody verified: nothing to name (counted all the same)
            return
        await audit.record(action="denied", what=f"gRPC call {method}", subject={},
                           tenant=names.get("O", "unknown"), role=names.get("OU", "unknown"),
                           user=f"certificate CN={names.get('CN', '')}", purpose="not stated", outcome="denied",
                           peer=context.peer() or "", detail=f"unauthenticated: {reason}")

    return record


def default_keys(keys: KeyStore | None) -> KeyStore:
    """`keys`, else the key dir every service is configured with (VT_KEY_DIR)."""
    if keys is not None:
        return keys
    key_dir = os.environ.get("VT_KEY_DIR")
    if not key_dir:
        raise RuntimeError("gRPC needs a key dir with certificates (pass keys or set VT_KEY_DIR); "
                           f"plaintext only with the dev flag {PLAINTEXT_FLAG}=1")
    return KeyStore(key_dir)


class GrpcServer:
    """`name` picks the server certificate (one of vtkit.pki.SERVER_NAMES)."""

    def __init__(self, port: int, keys: KeyStore | None = None, name: str = "", host: str | None = None,
                 delegates: Delegates = frozenset()):
        """`delegates`: the identities (tenant, role) that may forward a call for another organisation
        (vtkit.auth.ON_BEHALF_HEADER): the service's own workers, when it runs several."""
        keys = default_keys(keys)
        # Loopback unless the deployment says otherwise: a pod behind a Kubernetes Service sets GRPC_HOST=0.0.0.0.
        host = host or os.environ.get("GRPC_HOST", "127.0.0.1")
        self.plaintext = plaintext_enabled()
        if self.plaintext:
            log.warning("gRPC server %s on %s:%s runs WITHOUT TLS (%s=1, dev only): callers are identified by "
                        "bearer tokens anyone holding tokens.json can present", name or "?", host, port,
                        PLAINTEXT_FLAG)
            interceptor: CertAuthInterceptor | TokenAuthInterceptor = TokenAuthInterceptor(keys.tokens(), delegates)
        else:
            if name not in pki.SERVER_NAMES:
                raise ValueError(f"unknown server certificate {name!r}; one of {pki.SERVER_NAMES}")
            interceptor = CertAuthInterceptor(delegates)
        self._auth = interceptor
        # PeerCounter outermost (it counts connections, before anything refuses a call); then the call metrics and
        # span (vtkit.grpcobs: they see the refusals of authentication too); RequestGuard innermost: an undecodable
        # body answers INVALID_ARGUMENT, after authentication.
        self.server = grpc.aio.server(interceptors=[PeerCounter(name or "plaintext"), ServerObservability(),
                                                    interceptor, RequestGuard()])
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        if self.plaintext:
            self.port = self.server.add_insecure_port(f"{host}:{port}")
        else:
            cert, key = pki.server_pair(keys.root, name)
            configuration = grpc.ssl_server_certificate_configuration([(key, cert)],
                                                                      root_certificates=pki.ca_pem(keys.root))
            handshakes = metrics.GRPC_TLS_HANDSHAKES.labels(name)

            def fetch_configuration() -> None:
                # grpcio calls this before every TLS handshake (module docstring); None keeps the configuration.
                handshakes.inc()

            credentials = grpc.dynamic_ssl_server_credentials(configuration, fetch_configuration,
                                                              require_client_authentication=True)
            self.port = self.server.add_secure_port(f"{host}:{port}", credentials)
        self.host = host
        # The plaintext health-only listener for kubelet's gRPC probe (module docstring); no interceptors, no
        # reflection: any other method answers UNIMPLEMENTED there.
        self.health_server: grpc.aio.Server | None = None
        self.health_port = 0
        if health_port := int(os.environ.get(HEALTH_PORT_ENV) or 0):
            self.health_server = grpc.aio.server()
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_server)
            self.health_port = self.health_server.add_insecure_port(f"{host}:{health_port}")
        self._service_names: list[str] = [reflection.SERVICE_NAME, health.SERVICE_NAME]
        # Health entries of a part of the service (e.g. vtkit.outbox.HEALTH_NAME) that is degraded while the
        # service as a whole ("") still serves: readiness stays up, the operator's check shows it.
        self._parts: dict[str, bool] = {}
        self._started = False

    def audit_refusals(self, audit: AuditLog) -> None:
        """Write a NEN 7513 `denied` record for every call refused UNAUTHENTICATED whose certificate was verified."""
        self._auth.on_refused = audit_refusal(audit)

    def add(self, add_to_server: Callable[[Any, Any], None], servicer: Any, full_names: Iterable[str]) -> None:
        add_to_server(servicer, self.server)
        self._service_names.extend(full_names)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        reflection.enable_server_reflection(self._service_names, self.server)
        await self.server.start()
        if self.health_server is not None:
            await self.health_server.start()
        for name in ["", *self._service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._started = True
        for part, serving in self._parts.items():
            await self.set_part(part, serving)

    async def set_part(self, name: str, serving: bool) -> None:
        """SERVING or NOT_SERVING (degraded) for one part; applied at start when set before."""
        self._parts[name] = serving
        if self._started:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING if serving
                                  else health_pb2.HealthCheckResponse.NOT_SERVING)

    async def stop(self, grace: float = 5.0) -> None:
        self._started = False
        for name in ["", *self._service_names, *self._parts]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)
        if self.health_server is not None:
            await self.health_server.stop(0)


def _probe_channel(address: str, keys: KeyStore | None) -> grpc.aio.Channel:
    return client_channel(address, default_keys(keys), *PROBE_IDENTITY)


async def wait_healthy(address: str, timeout: float = 30.0, keys: KeyStore | None = None) -> None:
    """Poll the standard health service until it answers SERVING (as the operations organisation)."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    async with _probe_channel(address, keys) as channel:
        while True:
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{address} not healthy within {timeout}s")
            await asyncio.sleep(0.1)


async def health_status(address: str, service: str = "", keys: KeyStore | None = None) -> str:
    """The health service's answer for `service` ("" = the whole server, or a part such as vt.outbox)."""
    async with _probe_channel(address, keys) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=3)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def reflected_services(address: str, keys: KeyStore | None = None) -> list[str]:
    """The service names a server lists through gRPC reflection (what grpcurl would show)."""
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async with _probe_channel(address, keys) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for reply in stub.ServerReflectionInfo(iter([request]), timeout=5):
            return [s.name for s in reply.list_services_response.service]
    return []


async def check(address: str, key_dir: str, server_name: str, timeout: float) -> bool:
    """One health check presenting the server certificate `server_name` as client certificate (what a
    pod's probe holds); plaintext under the dev flag."""
    async with server_probe_channel(address, key_dir, server_name) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.aio.AioRpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def main(argv: list[str]) -> int:
    """`python -m vtkit.grpcserver check <address> <server-name>`: exit 0 when SERVING (the k8s exec
    probe: kubelet's built-in gRPC probe cannot present a client certificate)."""
    import asyncio

    if len(argv) != 4 or argv[1] != "check":
        print("usage: python -m vtkit.grpcserver check <host:port> <server-name>  (key dir from VT_KEY_DIR)",
              file=sys.stderr)
        return 2
    healthy = asyncio.run(check(argv[2], str(default_keys(None).root), argv[3], timeout=3.0))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
