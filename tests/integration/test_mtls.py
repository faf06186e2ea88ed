"""Mutual TLS on every gRPC server (docs/security.md, "Identity: mTLS"): real servers on loopback, real certificates of
the key dir.

The caller's tenant and role come from its client certificate only. A WhoAmI method, served by the
suite's GrpcServer, answers with `vtkit.auth.caller()`, so a test can see what the server believes;
one test runs a real intake to show a forged "authorization" header does not open another region."""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import sys
from collections.abc import AsyncIterator

import grpc
import pytest
from devstack.broker import free_port
from devstack.scenario import melding_request, random_bsn
from grpc_health.v1 import health_pb2, health_pb2_grpc
from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2_grpc
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vsvc
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc as vsvc_grpc
from vtkit import pki
from vtkit.auth import bearer_metadata, caller
from vtkit.channels import OrgStubs, client_channel
from vtkit.grpcserver import PLAINTEXT_FLAG, GrpcServer, check, reflected_services, wait_healthy
from vtkit.keystore import KeyStore, init_keys
from vtkit.registrants import example
from vttest import ServiceProcess
from vttest.intake import intake_process

WHO = "/vt.test.WhoAmI/Who"


async def _who(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    who = caller()
    return f"{who.tenant}/{who.role}".encode()


def _add_who_am_i(server: GrpcServer) -> None:
    handler = grpc.method_handlers_generic_handler("vt.test.WhoAmI", {
        "Who": grpc.unary_unary_rpc_method_handler(_who)})  # raw bytes in and out
    server.server.add_generic_rpc_handlers((handler,))


async def started(keys: KeyStore) -> GrpcServer:
    server = GrpcServer(0, keys, "intake")
    _add_who_am_i(server)
    await server.start()
    return server


@pytest.fixture()
async def server(keys: KeyStore, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GrpcServer]:
    monkeypatch.delenv(PLAINTEXT_FLAG, raising=False)
    running = await started(keys)
    try:
        yield running
    finally:
        await running.stop(0)


async def who_am_i(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> str:
    reply: bytes = await channel.unary_unary(WHO)(b"", metadata=metadata, timeout=5)
    return reply.decode()


def ssl_channel(address: str, key_dir: pathlib.Path, client: tuple[str, str] | None,
                server_ca: pathlib.Path) -> grpc.aio.Channel:
    """A TLS channel trusting `server_ca`, presenting `client` (tenant, role) of `key_dir` or no certificate."""
    cert, key = pki.client_pair(key_dir, *client) if client else (None, None)
    credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca_pem(server_ca), private_key=key,
                                               certificate_chain=cert)
    return grpc.aio.secure_channel(address, credentials)


async def test_the_caller_is_read_from_the_certificate(server: GrpcServer, keys: KeyStore) -> None:
    for tenant, role in [("utrecht", "region"), ("national", "inspector"), (example("youth_care").id, "registrant")]:
        async with client_channel(server.address, keys, tenant, role) as channel:
            assert await who_am_i(channel) == f"{tenant}/{role}"


async def test_a_forged_authorization_header_changes_nothing(server: GrpcServer, keys: KeyStore) -> None:
    forged = (*bearer_metadata(keys.token_for("groningen")), ("x-tenant", "groningen"), ("x-role", "operations"))
    async with client_channel(server.address, keys, "utrecht") as channel:
        assert await who_am_i(channel, forged) == "utrecht/region"


async def test_a_call_without_a_client_certificate_fails(server: GrpcServer, keys: KeyStore) -> None:
    # TLS that verifies the server but presents no certificate of its own: the handshake fails.
    async with ssl_channel(server.address, keys.root, None, keys.root) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await who_am_i(channel, bearer_metadata(keys.token_for("utrecht")))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    # Plaintext: no handshake at all.
    async with grpc.aio.insecure_channel(server.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await who_am_i(channel, bearer_metadata(keys.token_for("utrecht")))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_certificate_from_another_ca_fails(server: GrpcServer, keys: KeyStore, tmp_path: pathlib.Path) -> None:
    pki.init_pki(tmp_path / "elsewhere")  # a self-made CA issuing an "utrecht" certificate of its own
    async with ssl_channel(server.address, tmp_path / "elsewhere", ("utrecht", "region"), keys.root) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await who_am_i(channel)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    # ...and health is closed to it too: only the suite's CA opens anything.
    async with ssl_channel(server.address, tmp_path / "elsewhere", ("national", "operations"), keys.root) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_server_certificate_is_no_caller(server: GrpcServer, keys: KeyStore) -> None:
    # Issued by the CA (and usable as client certificate, for the pods' health probes), but it names no
    # organisation: the handshake succeeds, every service RPC is refused, health answers.
    cert, key = pki.server_pair(keys.root, "radar")
    credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca_pem(keys.root), private_key=key,
                                               certificate_chain=cert)
    async with grpc.aio.secure_channel(server.address, credentials) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await who_am_i(channel)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED, err.value.details()
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    # ...which is what the pods' exec probe does.
    assert await check(server.address, str(keys.root), "radar", timeout=5)


async def test_health_and_reflection_answer_any_certificate_of_the_ca(server: GrpcServer, keys: KeyStore) -> None:
    await wait_healthy(server.address, 5, keys=keys)
    assert "grpc.health.v1.Health" in await reflected_services(server.address, keys)
    async with client_channel(server.address, keys, "zeeland") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_plaintext_only_with_the_dev_flag_and_with_a_warning(
        keys: KeyStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    for not_the_flag in ("", "true", "0"):  # only "1" turns TLS off
        monkeypatch.setenv(PLAINTEXT_FLAG, not_the_flag)
        running = await started(keys)
        try:
            async with grpc.aio.insecure_channel(running.address) as channel:
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await who_am_i(channel, bearer_metadata(keys.token_for("utrecht")))
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            await running.stop(0)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "WITHOUT TLS" in r.getMessage()]

    monkeypatch.setenv(PLAINTEXT_FLAG, "1")
    with caplog.at_level(logging.WARNING, logger="vtkit.grpcserver"):
        running = await started(keys)
    try:
        assert [r for r in caplog.records if r.levelno == logging.WARNING and "WITHOUT TLS" in r.getMessage()]
        # The dev fallback: the bearer token names the caller, and client_channel sends it.
        async with client_channel(running.address, keys, "utrecht") as channel:
            assert await who_am_i(channel) == "utrecht/region"
        async with grpc.aio.insecure_channel(running.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await who_am_i(channel)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await running.stop(0)


async def test_a_real_intake_refuses_another_region_whatever_its_metadata_says(
        kafka: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PLAINTEXT_FLAG, raising=False)
    keys = init_keys(tmp_path / "keys")
    process = intake_process(tmp_path, kafka, keys, "groningen", tmp_path / "data").start()
    try:
        await wait_healthy(process.address, 20, keys=keys)
        stub_as = {t: client_channel(process.address, keys, t) for t in ("groningen", "utrecht")}
        own = await intake_service_pb2_grpc.IntakeServiceStub(stub_as["groningen"]).SubmitMelding(
            melding_request(random_bsn()), timeout=10)
        assert own.contact_id
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await intake_service_pb2_grpc.IntakeServiceStub(stub_as["utrecht"]).SubmitMelding(
                melding_request(random_bsn()), metadata=bearer_metadata(keys.token_for("groningen")), timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        for channel in stub_as.values():
            await channel.close()
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]
    assert '"tenant": "utrecht"' in (tmp_path / "data" / "audit-intake-groningen.jsonl").read_text()


async def test_the_probe_command_of_the_k8s_manifests(server: GrpcServer, keys: KeyStore) -> None:
    """deploy/k8s runs `python -m vtkit.grpcserver check 127.0.0.1:50051 <service>` as exec probe."""
    env = {**os.environ, "VT_KEY_DIR": str(keys.root)}
    command = [sys.executable, "-m", "vtkit.grpcserver", "check"]
    ok = await asyncio.create_subprocess_exec(*command, server.address, "intake", env=env)
    assert await ok.wait() == 0
    down = await asyncio.create_subprocess_exec(*command, f"127.0.0.1:{free_port()}", "intake", env=env)
    assert await down.wait() == 1


async def test_a_registrant_organisation_registers_with_its_own_certificate(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registrant organisation that is no VT region (here a GGD's youth health care) uses the verwijsindex with
    its own certificate; the signal is its own, not the region's whose token it forges."""
    monkeypatch.delenv(PLAINTEXT_FLAG, raising=False)
    ggd = example("youth_health_care").id
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(tmp_path / "vi")}
    process = ServiceProcess("verwijsindex", "verwijsindex", env=env, log_path=tmp_path / "vi.log").start()
    try:
        await wait_healthy(process.address, 60, keys=keys)
        request = vsvc.RegisterSignalRequest(
            youth_bsn=random_bsn(), youth_date_of_birth=common_pb2.Date(year=2012, month=4, day=1),
            registrant=vsvc.Registrant(name="Jeugdarts", organisation="GGD", phone="0301234567",
                                       sector=vsvc.SECTOR_HEALTH_CARE))
        async with OrgStubs(process.address, keys, vsvc_grpc.VerwijsindexServiceStub) as stub:
            forged = bearer_metadata(keys.token_for("utrecht"))
            signal = await stub(ggd, "registrant").RegisterSignal(request, metadata=forged, timeout=10)
            mine = await stub(ggd, "registrant").ListMySignals(vsvc.ListMySignalsRequest(), timeout=10)
            utrechts = await stub("utrecht").ListMySignals(vsvc.ListMySignalsRequest(), timeout=10)
        assert signal.signal_id in {s.signal_id for s in mine.signals}
        assert signal.signal_id not in {s.signal_id for s in utrechts.signals}
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]


async def test_a_service_process_in_plaintext_dev_mode_warns_and_takes_tokens(
        kafka: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PLAINTEXT_FLAG, "1")  # for the process (inherits it) and for client_channel here
    keys = init_keys(tmp_path / "keys")
    process = intake_process(tmp_path, kafka, keys, "zeeland", tmp_path / "data").start()
    try:
        await wait_healthy(process.address, 20, keys=keys)
        assert "WITHOUT TLS" in process.log_text() and '"level": "warning"' in process.log_text()
        async with client_channel(process.address, keys, "zeeland") as channel:  # bearer token, plaintext
            reply = await intake_service_pb2_grpc.IntakeServiceStub(channel).SubmitMelding(
                melding_request(random_bsn()), timeout=10)
        assert reply.contact_id
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]
