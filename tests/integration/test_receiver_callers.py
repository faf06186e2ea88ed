"""Every receiver contract takes calls from the notifier only (proto/vt/notifier/v1/receivers.proto): the fake case
system, the letter gateway, the professional endpoint and the RvdK's receiver, real gRPC servers with mutual TLS,
answer any other organisation's certificate PERMISSION_DENIED, record the refusal with the caller, and keep nothing
of what it sent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from simulators.letter_gateway import FakeLetterGateway
from simulators.professional import FakeProfessionalEndpoint
from simulators.regional_system import FakeRegionalSystem
from simulators.rvdk import FakeRvdkReceiver
from vt.notifier.v1 import receivers_pb2, receivers_pb2_grpc
from vtkit.channels import OrgStubs
from vtkit.keystore import KeyStore
from vtkit.registrants import example

# Organisations with a certificate of the suite's CA that are not the notifier.
OTHERS = [("utrecht", "region"), ("national", "rvdk"), ("national", "operations"), (example("education").id, "registrant")]


@pytest.fixture()
async def receivers(keys: KeyStore) -> AsyncIterator[dict[str, FakeRegionalSystem]]:
    fakes: dict[str, FakeRegionalSystem] = {"regional": FakeRegionalSystem(keys=keys),
                                            "letters": FakeLetterGateway(keys=keys),
                                            "professional": FakeProfessionalEndpoint(keys=keys),
                                            "rvdk": FakeRvdkReceiver(keys=keys)}
    for fake in fakes.values():
        await fake.start()
    try:
        yield fakes
    finally:
        for fake in fakes.values():
            await fake.stop()


async def call(fake: FakeRegionalSystem, keys: KeyStore, name: str, tenant: str, role: str) -> None:
    if name == "regional":
        async with OrgStubs(fake.address, keys, receivers_pb2_grpc.RegionalCallbackServiceStub) as regional:
            await regional(tenant, role).DeliverCallback(receivers_pb2.DeliverCallbackRequest(
                idempotency_key=f"k-{tenant}-{role}", tenant_id="utrecht", case_id="c"), timeout=10)
    elif name == "letters":
        async with OrgStubs(fake.address, keys, receivers_pb2_grpc.LetterGatewayServiceStub) as letters:
            await letters(tenant, role).SendLetter(receivers_pb2.SendLetterRequest(
                idempotency_key=f"k-{tenant}-{role}", tenant_id="utrecht", case_id="c"), timeout=10)
    else:
        async with OrgStubs(fake.address, keys, receivers_pb2_grpc.ProfessionalNotificationServiceStub) as notify:
            await notify(tenant, role).Notify(receivers_pb2.NotifyRequest(
                idempotency_key=f"k-{tenant}-{role}", recipient_id="rvdk", subject="rvdk_request"), timeout=10)


@pytest.mark.parametrize("name", ["regional", "letters", "professional", "rvdk"])
async def test_a_receiver_refuses_every_caller_but_the_notifier(
        receivers: dict[str, FakeRegionalSystem], keys: KeyStore, name: str) -> None:
    fake = receivers[name]
    for tenant, role in OTHERS:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(fake, keys, name, tenant, role)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "notifier only" in (refused.value.details() or "")
    assert [(c["caller"], c["status"]) for c in fake.calls] == [(f"{t}/{r}", "PERMISSION_DENIED") for t, r in OTHERS]
    assert fake.accepted() == [] and getattr(fake, "notices", []) == [] and getattr(fake, "letters", []) == []
    await call(fake, keys, name, "national", "notifier")
    [accepted] = fake.accepted()
    assert accepted["caller"] == "national/notifier"
