"""The real notifier process against the embedded broker and a real fake regional system (gRPC).

Each test uses its own tenant, case ids and a fresh consumer group positioned at the end of the
source topics, so tests sharing the session broker do not see each other's events; assertions
still filter on case id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from simulators.regional_system import FakeRegionalSystem, read_records
from vt.notifier.v1 import events_pb2, notifier_service_pb2, notifier_service_pb2_grpc
from vtkit import topics
from vtkit.calendar import end_of_day
from vtkit.channels import client_channel
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import ServiceProcess, eventually
from vttest.notifier import EXPECTED_DUE, DeliveryEvents, Notifier, assessment_due, of_case, publish_due, redrive

WAIT = 60.0


async def test_assessment_due_is_delivered_once_as_callback_with_due_date(
        publisher: Publisher, fake: FakeRegionalSystem, make_notifier: Callable[..., Notifier],
        delivery_events: DeliveryEvents) -> None:
    tenant, case_id = "zeeland", f"case-{uuid.uuid4()}"
    notifier = make_notifier({tenant: fake.address})
    await notifier.start()
    envelope = await publish_due(publisher, assessment_due(tenant, case_id))

    calls = await eventually(lambda: fake.distinct(case_id), "the callback at the regional system")
    assert len(calls) == 1
    call = calls[0]
    assert call["method"] == "DeliverCallback"
    assert call["tenant_id"] == tenant
    assert call["due_date"] == EXPECTED_DUE.isoformat()
    assert call["has_melder"] and call["melder_key_id"] == f"{tenant}:1"
    await delivery_events.wait_for(lambda s: of_case(case_id, "DeliveryRequested")(s) and
                                   of_case(case_id, "DeliveryDelivered")(s), "DeliveryRequested and DeliveryDelivered")
    requested = of_case(case_id, "DeliveryRequested")(delivery_events.seen)[0]
    assert requested.cause_event_id == envelope.id
    assert requested.kind == events_pb2.DELIVERY_KIND_MELDER_CALLBACK
    assert (requested.due_date.year, requested.due_date.month, requested.due_date.day) == (2025, 12, 31)
    assert requested.due_at.ToDatetime(tzinfo=dt.UTC) == end_of_day(EXPECTED_DUE)
    assert requested.idempotency_key == call["idempotency_key"]
    assert notifier.stop() == 0, "SIGTERM must end the notifier cleanly"


async def test_same_event_twice_is_delivered_once_and_due_date_computed_when_absent(
        publisher: Publisher, fake: FakeRegionalSystem, make_notifier: Callable[..., Notifier],
        delivery_events: DeliveryEvents) -> None:
    tenant, case_id, sentinel = "flevoland", f"case-{uuid.uuid4()}", f"case-{uuid.uuid4()}"
    notifier = make_notifier({tenant: fake.address})
    await notifier.start()
    msg = assessment_due(tenant, case_id, with_due_date=False)
    envelope = await publish_due(publisher, msg)
    await publish_due(publisher, msg, event_id=envelope.id)
    # Same record key, so the same partition: once the sentinel arrives, both copies were handled.
    await publish_due(publisher, assessment_due(tenant, sentinel), record_key=case_id)

    await eventually(lambda: fake.distinct(sentinel), "the sentinel callback")
    await eventually(lambda: fake.distinct(case_id), "the callback")
    await asyncio.sleep(1.0)  # room for a wrong second delivery to show up
    calls = fake.accepted(case_id)
    assert len(calls) == 1, calls
    assert calls[0]["due_date"] == EXPECTED_DUE.isoformat()
    await delivery_events.wait_for(of_case(case_id, "DeliveryDelivered"), "DeliveryDelivered")
    assert len(of_case(case_id, "DeliveryRequested")(delivery_events.seen)) == 1


@pytest.mark.parametrize("fake", [{"fail_first": 2}], indirect=True)
async def test_unavailable_receiver_is_retried_then_delivered(
        publisher: Publisher, fake: FakeRegionalSystem, make_notifier: Callable[..., Notifier],
        delivery_events: DeliveryEvents) -> None:
    tenant, case_id = "drenthe", f"case-{uuid.uuid4()}"
    notifier = make_notifier({tenant: fake.address})
    await notifier.start()
    await publish_due(publisher, assessment_due(tenant, case_id))

    await eventually(lambda: fake.distinct(case_id), "the callback after retries")
    unavailable = [c for c in fake.calls if c["status"] == "UNAVAILABLE"]
    assert len(unavailable) == 2
    await delivery_events.wait_for(of_case(case_id, "DeliveryDelivered"), "DeliveryDelivered")
    delivered = of_case(case_id, "DeliveryDelivered")(delivery_events.seen)[0]
    assert delivered.attempts == 3
    assert len(fake.accepted(case_id)) == 1


@pytest.mark.parametrize("fake", [{"fail_permanent": True}], indirect=True)
async def test_permanent_failure_is_dead_lettered_then_redriven_once(
        publisher: Publisher, fake: FakeRegionalSystem, make_notifier: Callable[..., Notifier],
        delivery_events: DeliveryEvents) -> None:
    tenant, case_id = "twente", f"case-{uuid.uuid4()}"
    notifier = make_notifier({tenant: fake.address})
    await notifier.start()
    await publish_due(publisher, assessment_due(tenant, case_id))

    await delivery_events.wait_for(lambda s: of_case(case_id, "DeliveryFailed")(s) and
                                   of_case(case_id, "DeliveryFailed", topics.DEAD_LETTERS)(s),
                                   "DeliveryFailed and its dead-letter record")
    failed = of_case(case_id, "DeliveryFailed")(delivery_events.seen)[0]
    assert failed.permanent and failed.attempts == 1
    assert failed.reason.startswith("INVALID_ARGUMENT")
    dead = [h for t, n, m, h in delivery_events.seen if t == topics.DEAD_LETTERS and m.case_id == case_id]
    assert dead[0]["dl_reason"].startswith("INVALID_ARGUMENT")
    assert [c["status"] for c in fake.calls if c["case_id"] == case_id] == ["INVALID_ARGUMENT"]

    # The operator fixes the receiver, lists the failed deliveries and re-drives them; the running
    # notifier sends each once, with the same idempotency key.
    fake.fail_permanent = False
    listing = await redrive(notifier.env["VT_DATA_DIR"], "--list")
    assert failed.idempotency_key in listing and "INVALID_ARGUMENT" in listing
    redriven = await redrive(notifier.env["VT_DATA_DIR"], failed.idempotency_key)
    assert "re-driven: 1" in redriven
    calls = await eventually(lambda: fake.distinct(case_id), "the re-driven delivery")
    await delivery_events.wait_for(of_case(case_id, "DeliveryDelivered"), "DeliveryDelivered after the re-drive")
    await asyncio.sleep(0.5)
    assert len(calls) == 1 and len(fake.accepted(case_id)) == 1
    assert calls[0]["idempotency_key"] == failed.idempotency_key


async def test_list_deliveries_is_limited_to_the_callers_tenant(
        publisher: Publisher, fake: FakeRegionalSystem, make_notifier: Callable[..., Notifier], keys: KeyStore) -> None:
    tenant, case_id = "zuid-limburg", f"case-{uuid.uuid4()}"
    unrouted_case = f"case-{uuid.uuid4()}"
    notifier = make_notifier({tenant: fake.address})
    proc = await notifier.start()
    await publish_due(publisher, assessment_due(tenant, case_id))
    # No endpoint for this region: it must stay pending (and, past its due date, overdue).
    await publish_due(publisher, assessment_due("fryslan", unrouted_case))
    await eventually(lambda: fake.distinct(case_id), "the callback")

    # One channel per organisation: the tenant is the client certificate's.
    channels = {t: client_channel(proc.address, keys, t) for t in (tenant, "fryslan", "groningen")}
    try:
        async def listing(token_tenant: str, **filters: Any) -> list[Any]:
            request = notifier_service_pb2.ListDeliveriesRequest(**filters)
            stub = notifier_service_pb2_grpc.NotifierServiceStub(channels[token_tenant])
            reply = await stub.ListDeliveries(request)
            return list(reply.deliveries)

        async def listed(token_tenant: str, case: str, state: int) -> list[Any]:
            deadline = time.monotonic() + WAIT
            while not (rows := await listing(token_tenant, case_id=case, state=state)):
                assert time.monotonic() < deadline, f"{case} never listed as {state}"
                await asyncio.sleep(0.2)
            return rows

        own = await listed(tenant, case_id, notifier_service_pb2.DELIVERY_STATE_DELIVERED)
        assert len(own) == 1 and not own[0].overdue and own[0].attempts == 1
        pending = await listed("fryslan", unrouted_case, notifier_service_pb2.DELIVERY_STATE_PENDING)
        assert pending[0].overdue, "due 2025-12-31 and not delivered"
        assert await listing("groningen", case_id=case_id) == []
        assert await listing(tenant, case_id=unrouted_case) == []
        # Without a client certificate the TLS handshake fails: the call never reaches the service.
        async with grpc.aio.insecure_channel(proc.address) as plain:
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await notifier_service_pb2_grpc.NotifierServiceStub(plain).ListDeliveries(
                    notifier_service_pb2.ListDeliveriesRequest(), timeout=5)
        assert denied.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        for channel in channels.values():
            await channel.close()
    assert "no regional endpoint configured" in proc.log_text()


async def test_callback_reaches_the_regional_simulator_running_as_its_own_process(
        publisher: Publisher, make_notifier: Callable[..., Notifier], tmp_path: pathlib.Path, keys: KeyStore) -> None:
    tenant, case_id = "ijsselland", f"case-{uuid.uuid4()}"
    record = tmp_path / "regional-process.jsonl"
    regional = ServiceProcess("regional", "simulators.regional_system", env={"RECORD_FILE": str(record), "TENANT": tenant,
                              "VT_KEY_DIR": str(keys.root)}, log_path=tmp_path / "logs" / "regional.log").start()
    try:
        await wait_healthy(regional.address, timeout=WAIT, keys=keys)
        assert '"msg": "listening"' in regional.log_text()
        await make_notifier({tenant: regional.address}).start()
        await publish_due(publisher, assessment_due(tenant, case_id))
        calls = await eventually(lambda: [c for c in read_records(record) if c["case_id"] == case_id],
                                 "the callback in RECORD_FILE")
        assert len(calls) == 1 and calls[0]["due_date"] == EXPECTED_DUE.isoformat() and not calls[0]["duplicate"]
    finally:
        assert regional.stop() == 0
