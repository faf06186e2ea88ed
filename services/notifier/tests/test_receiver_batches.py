"""Deliveries to a regional case system in batches (notifier.adapters.receiver_batch), through a real fake case system
over mTLS: what comes while a call is out goes together in the next call, each delivery with its own outcome; a
receiver without DeliverBatch gets the single calls; a failed call or a wrong answer fails its deliveries for a retry.
The first call is held open by the test (an asyncio.Event in the fake), so which deliveries go together is decided by
the test, never by timing."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import grpc
from notifier.adapters.regional import RegionalClients
from notifier.domain import AttemptOutcome, Delivery, DeliveryKind
from simulators.regional_system import FakeRegionalSystem
from vt.notifier.v1 import receivers_pb2
from vtkit.keystore import KeyStore
from vttest import eventually

TENANT = "utrecht"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class HeldRegion(FakeRegionalSystem):
    """Takes its first DeliverBatch call (records it), but answers only once `release` is set. Refuses case-bad for
    good and is busy for case-busy."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrived, self.release = asyncio.Event(), asyncio.Event()

    async def DeliverBatch(self, request: receivers_pb2.DeliverBatchRequest,
                           context: grpc.aio.ServicerContext) -> receivers_pb2.DeliverBatchResponse:
        answer = await super().DeliverBatch(request, context)
        self.arrived.set()
        await self.release.wait()
        return answer

    def refusal(self, method: str, request: Any) -> tuple[str, str] | None:
        return {"case-bad": ("INVALID_ARGUMENT", "no such case"), "case-busy": ("UNAVAILABLE", "busy")}.get(request.case_id)


class AnswersNothing(FakeRegionalSystem):
    """Takes the batch but answers no results for it: a receiver that does not keep the contract."""

    async def DeliverBatch(self, request: receivers_pb2.DeliverBatchRequest,
                           context: grpc.aio.ServicerContext) -> receivers_pb2.DeliverBatchResponse:
        await super().DeliverBatch(request, context)
        return receivers_pb2.DeliverBatchResponse()


def callback(case_id: str) -> Delivery:
    return Delivery(key=f"cb-{case_id}", kind=DeliveryKind.MELDER_CALLBACK, tenant_id=TENANT, case_id=case_id,
                    cause_event_id=f"e-{case_id}", due_date=dt.date(2026, 3, 9), created_at=NOW, deliver_after=NOW,
                    body=receivers_pb2.DeliverCallbackRequest(acute=True).SerializeToString())


def register_match(case_id: str) -> Delivery:
    body = receivers_pb2.DeliverRegisterMatchRequest(person_id="p-1").SerializeToString()
    return Delivery(key=f"rm-{case_id}", kind=DeliveryKind.REGISTER_MATCH_NOTICE, tenant_id=TENANT, case_id=case_id,
                    cause_event_id=f"e-{case_id}", due_date=None, created_at=NOW, deliver_after=NOW, body=body)


async def started(system: FakeRegionalSystem) -> FakeRegionalSystem:
    await system.start()
    return system


async def test_what_comes_while_a_call_is_out_goes_together_each_with_its_own_outcome(keys: KeyStore) -> None:
    region = await started(HeldRegion(tenant=TENANT, keys=keys))
    clients = RegionalClients({TENANT: region.address}, timeout_seconds=10, keys=keys)
    try:
        first = asyncio.create_task(clients.send(callback("case-0")))
        await region.arrived.wait()  # the first delivery went at once, alone, and its call is out
        later = [callback("case-1"), register_match("case-2"), callback("case-bad"), callback("case-busy")]
        rest = [asyncio.create_task(clients.send(d)) for d in later]
        receiver = clients.receiver(region.address)
        await eventually(lambda: receiver.waiting == len(later), "the later deliveries waiting", interval=0.01)
        region.release.set()
        outcomes = await asyncio.gather(first, *rest)
    finally:
        await clients.close()
        await region.stop()
    assert outcomes == [(AttemptOutcome.OK, ""), (AttemptOutcome.OK, ""), (AttemptOutcome.OK, ""),
                        (AttemptOutcome.PERMANENT, "INVALID_ARGUMENT: no such case"),
                        (AttemptOutcome.TRANSIENT, "UNAVAILABLE: busy")]
    calls = [(c["method"], c["case_id"], c["idempotency_key"], c["batch"], c["status"]) for c in region.calls]
    assert calls == [("DeliverCallback", "case-0", "cb-case-0", 1, "OK"),
                     ("DeliverCallback", "case-1", "cb-case-1", 4, "OK"),
                     ("DeliverRegisterMatch", "case-2", "rm-case-2", 4, "OK"),
                     ("DeliverCallback", "case-bad", "cb-case-bad", 4, "INVALID_ARGUMENT"),
                     ("DeliverCallback", "case-busy", "cb-case-busy", 4, "UNAVAILABLE")]
    assert region.callbacks[0].acute and region.callbacks[0].tenant_id == TENANT  # the request itself, as sent


async def test_a_receiver_without_deliver_batch_gets_the_single_calls(keys: KeyStore) -> None:
    region = await started(FakeRegionalSystem(tenant=TENANT, keys=keys, batched=False))
    clients = RegionalClients({TENANT: region.address}, timeout_seconds=10, keys=keys)
    try:
        outcomes = await asyncio.gather(*(clients.send(callback(f"case-{i}")) for i in range(3)))
        assert not clients.receiver(region.address).batched
        assert await clients.send(register_match("case-3")) == (AttemptOutcome.OK, "")
    finally:
        await clients.close()
        await region.stop()
    assert outcomes == [(AttemptOutcome.OK, "")] * 3
    assert sorted(c["case_id"] for c in region.accepted(method="DeliverCallback")) == ["case-0", "case-1", "case-2"]
    assert [c["case_id"] for c in region.accepted(method="DeliverRegisterMatch")] == ["case-3"]
    assert not any("batch" in c for c in region.calls)  # each by the call of its own kind


async def test_a_call_that_fails_or_answers_wrongly_fails_its_deliveries_for_a_retry(keys: KeyStore) -> None:
    region = await started(AnswersNothing(tenant=TENANT, keys=keys))
    gone = await started(FakeRegionalSystem(tenant=TENANT, keys=keys))
    address_gone = gone.address
    await gone.stop()
    clients = RegionalClients({TENANT: region.address}, timeout_seconds=2, keys=keys)
    down = RegionalClients({TENANT: address_gone}, timeout_seconds=2, keys=keys)
    try:
        assert await clients.send(callback("case-1")) == (
            AttemptOutcome.TRANSIENT, "INTERNAL: the receiver answered 0 results for 1 deliveries")
        outcome, reason = await down.send(callback("case-2"))
    finally:
        await clients.close()
        await down.close()
        await region.stop()
    assert outcome is AttemptOutcome.TRANSIENT and reason.startswith("UNAVAILABLE"), reason
