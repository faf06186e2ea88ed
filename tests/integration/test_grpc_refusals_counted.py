"""Refusals at the gRPC boundary are counted (vtkit.grpcserver, vtkit.auth), on a real server with mutual TLS.

A handshake without a client certificate, or with one another CA signed, never reaches Python code in grpcio:
what is counted is every handshake the server starts (vt_grpc_tls_handshakes_total) and every connection that
makes a call (vt_grpc_tls_peers_total); the refused ones are the difference. A call refused UNAUTHENTICATED (a
CA-verified certificate that names no organisation: a server's own certificate) is counted by reason, and audited
as denied, naming the certificate."""

from __future__ import annotations

import asyncio
import json
import pathlib
import socket
import ssl
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from devstack.broker import free_port
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY
from vtkit import pki
from vtkit.audit import AuditLog
from vtkit.auth import caller
from vtkit.channels import client_channel, server_probe_channel
from vtkit.grpcserver import PLAINTEXT_FLAG, GrpcServer
from vtkit.keystore import KeyStore, init_keys

WHO = "/vt.test.WhoAmI/Who"


async def _who(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return caller().tenant.encode()


@pytest.fixture()
async def server(keys: KeyStore, tmp_path: pathlib.Path,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[GrpcServer, pathlib.Path]]:
    monkeypatch.delenv(PLAINTEXT_FLAG, raising=False)
    running = GrpcServer(free_port(), keys, "intake")
    running.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "vt.test.WhoAmI", {"Who": grpc.unary_unary_rpc_method_handler(_who)}),))
    audit_path = tmp_path / "audit.jsonl"
    running.audit_refusals(AuditLog(audit_path, "test"))
    await running.start()
    try:
        yield running, audit_path
    finally:
        await running.stop(0)


def value(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def handshakes() -> float:
    return value("vt_grpc_tls_handshakes_total", {"server": "intake"})


def peers() -> float:
    return value("vt_grpc_tls_peers_total", {"server": "intake"})


def tls_connect(address: str, ca: pathlib.Path, client: tuple[pathlib.Path, pathlib.Path] | None) -> None:
    """One TCP connection, one TLS handshake (a gRPC channel would retry and make several)."""
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    context.set_alpn_protocols(["h2"])
    if client is not None:
        context.load_cert_chain(*map(str, client))
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                tls.recv(1)  # TLS 1.3: the server's refusal arrives after the client's side of the handshake
        except (ssl.SSLError, OSError):
            pass


async def until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within 10 s: {what}")
        await asyncio.sleep(0.02)


async def test_refused_handshakes_show_as_handshakes_without_a_connection(
        server: tuple[GrpcServer, pathlib.Path], keys: KeyStore, tmp_path: pathlib.Path) -> None:
    grpc_server, _ = server
    ca = pki.pki_dir(keys.root) / "ca.pem"
    other = init_keys(tmp_path / "other-ca")  # a certificate of another CA
    started, connected = handshakes(), peers()
    await asyncio.to_thread(tls_connect, grpc_server.address, ca, None)
    await asyncio.to_thread(tls_connect, grpc_server.address, ca, pki.client_paths(other.root, "utrecht", "region"))
    await until(lambda: handshakes() >= started + 2, "two handshakes started")
    assert peers() == connected  # neither became a connection that called anything
    async with client_channel(grpc_server.address, keys, "utrecht") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        await channel.unary_unary(WHO)(b"", timeout=5)  # the same connection: counted once
    assert handshakes() == started + 3 and peers() == connected + 1


async def test_an_unauthenticated_call_is_counted_and_audited_naming_the_certificate(
        server: tuple[GrpcServer, pathlib.Path], keys: KeyStore) -> None:
    grpc_server, audit_path = server
    labels = {"service": "vt.test.WhoAmI", "reason": "no_identity"}
    before = value("vt_grpc_unauthenticated_total", labels)
    async with server_probe_channel(grpc_server.address, str(keys.root), "radar") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await channel.unary_unary(WHO)(b"", timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert value("vt_grpc_unauthenticated_total", labels) == before + 1
    records = [json.loads(line) for line in audit_path.read_text().splitlines()]
    assert [(r["action"], r["outcome"], r["what"], r["who"]["user"], r["detail"]) for r in records] == [
        ("denied", "denied", f"gRPC call {WHO}", "certificate CN=radar", "unauthenticated: no_identity")]
    assert records[0]["where"]["peer"].startswith("ipv4:127.0.0.1:")
