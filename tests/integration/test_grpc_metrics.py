"""gRPC calls on /metrics (vtkit.grpcobs): a real intake process, called over mutual TLS, and its /metrics scraped over
HTTP counts each call by service, method and status code (refusals of authentication included) and times it."""

from __future__ import annotations

import pathlib
import re

import aiohttp
import grpc
import pytest
from devstack.broker import free_port
from devstack.scenario import melding_request, random_bsn
from vt.intake.v1 import intake_service_pb2 as pb
from vt.intake.v1 import intake_service_pb2_grpc
from vtkit.channels import Org, server_probe_channel
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vttest import eventually
from vttest.intake import call, intake_process

TENANT = "flevoland"
SERVICE = "vt.intake.v1.IntakeService"


def counted(metrics: str, name: str, **labels: str) -> float:
    """The sample of `name` whose labels include `labels` (0 when there is none)."""
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            return float(match.group(2))
    return 0.0


async def test_calls_are_counted_by_method_and_status_code_and_timed(tmp_path: pathlib.Path, kafka: str, keys: KeyStore,
                                                                     data_dir: pathlib.Path) -> None:
    port = free_port()
    intake = intake_process(tmp_path, kafka, keys, TENANT, data_dir)
    intake.env = {**intake.env, "METRICS_PORT": str(port)}
    intake.start()
    try:
        await wait_healthy(intake.address, timeout=20, keys=keys)
        org = Org(keys, TENANT)
        for _ in range(2):
            await call(intake.address, org, "SubmitMelding", melding_request(random_bsn()))
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await call(intake.address, org, "GetContact", pb.GetContactRequest(contact_id="no-such-contact",
                                                                               purpose="metrics test"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        # A server's own certificate names no organisation: refused by authentication, counted all the same.
        async with server_probe_channel(intake.address, str(keys.root), "intake") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await intake_service_pb2_grpc.IntakeServiceStub(channel).SubmitMelding(melding_request(random_bsn()),
                                                                                       timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

        async def scrape() -> str:
            async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as reply:
                text = await reply.text()
            # A call is counted when its handler has returned: a refusal's status may reach the caller just before.
            assert counted(text, "vt_grpc_server_handling_seconds_count", grpc_service=SERVICE,
                           grpc_method="SubmitMelding") == 3
            return text

        metrics = await eventually(scrape, "the three SubmitMelding calls counted", timeout=10)
    finally:
        assert intake.stop() == 0, intake.log_text()[-3000:]

    handled = "vt_grpc_server_handled_total"
    assert counted(metrics, handled, grpc_service=SERVICE, grpc_method="SubmitMelding", grpc_code="OK") == 2
    assert counted(metrics, handled, grpc_service=SERVICE, grpc_method="GetContact", grpc_code="NOT_FOUND") == 1
    assert counted(metrics, handled, grpc_service=SERVICE, grpc_method="SubmitMelding", grpc_code="UNAUTHENTICATED") == 1
    assert counted(metrics, handled, grpc_service="grpc.health.v1.Health", grpc_method="Check", grpc_code="OK") >= 1
    assert counted(metrics, "vt_grpc_server_started_total", grpc_service=SERVICE, grpc_method="SubmitMelding") == 3
    assert counted(metrics, "vt_grpc_server_handling_seconds_count", grpc_service=SERVICE, grpc_method="SubmitMelding") == 3
    assert counted(metrics, "vt_grpc_server_handling_seconds_bucket", grpc_service=SERVICE, grpc_method="SubmitMelding",
                   le="+Inf") == 3
