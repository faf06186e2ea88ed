"""The region inbox through the real notifier process, the broker and gRPC with mTLS: a case system that is down
receives every item once, in order, when it is back; meanwhile ListInbox (paged, the caller's region only) shows
them until a worker acknowledges them. The full loop from two intakes and radar is in
tests/e2e/test_cross_region_melding.py; the clock-driven rules (deadlines, escalation) in the notifier's
tests/test_inbox.py."""

from __future__ import annotations

import asyncio
import pathlib
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from devstack.broker import free_port
from ops.observer import Observer
from simulators.regional_system import FakeRegionalSystem
from vt.common.v1 import common_pb2
from vt.notifier.v1 import notifier_service_pb2 as npb
from vt.notifier.v1 import notifier_service_pb2_grpc, receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vtkit import audit, topics
from vtkit.channels import OrgStubs
from vtkit.envelope import envelope_for
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import eventually
from vttest.notifier import Notifier

TENANT, OTHER = "fryslan", "flevoland"


async def publish(publisher: Publisher, msg: Any) -> None:
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, msg.case_id, msg, envelope_for(msg, source="radar",
                                                                                        tenant=msg.tenant_id))


def findings(case_id: str) -> list[Any]:
    """What radar says about one case, in order: its first assessment input, an RvdK signal joining it, and (the
    household monitored after an earlier decision) an alert about another region's melding."""
    first = radar_events.AssessmentInput(tenant_id=TENANT, case_id=case_id, person_id="p-child")
    joined = radar_events.AssessmentInput(tenant_id=TENANT, case_id=case_id, person_id="p-child",
                                          rvdk=[radar_events.RvdkInfo(signal_id="rvdk-1")])
    alert = radar_events.MonitoringAlert(tenant_id=TENANT, case_id=case_id, person_id="p-mother",
                                         trigger=radar_events.MONITORING_TRIGGER_MELDING_OTHER_ORGANISATION,
                                         other=common_pb2.Involvement(tenant_id=OTHER))
    return [first, joined, alert]


async def test_a_case_system_that_was_down_gets_every_item_once_in_order_and_the_inbox_lists_them_until_acknowledged(
        publisher: Publisher, make_notifier: Callable[..., Notifier], keys: KeyStore, data_dir: pathlib.Path,
        kafka: str) -> None:
    case_id, port, metrics_port = f"case-{uuid.uuid4()}", free_port(), free_port()
    # Nothing listens at the case system's address yet: it is down.
    notifier = make_notifier({TENANT: f"127.0.0.1:{port}"}, METRICS_PORT=str(metrics_port))
    proc = await notifier.start()
    for msg in findings(case_id):
        await publish(publisher, msg)
    async with OrgStubs(proc.address, keys, notifier_service_pb2_grpc.NotifierServiceStub) as stub:
        region = stub(TENANT)

        async def listed(**request: Any) -> list[Any]:
            return list((await region.ListInbox(npb.ListInboxRequest(case_id=case_id, **request))).items)

        async def attempted() -> bool:
            rows = (await region.ListDeliveries(npb.ListDeliveriesRequest(case_id=case_id))).deliveries
            return bool(rows) and rows[0].attempts >= 2

        # While the case system is down, the inbox already holds the items, not acknowledged, and the first
        # one is being retried (the others wait behind it: in order per case).
        deadline = asyncio.get_running_loop().time() + 60
        while len(items := await listed()) < 3 or not await attempted():
            assert asyncio.get_running_loop().time() < deadline, f"inbox {items}"
            await asyncio.sleep(0.1)
        assert [i.kind for i in items] == [receivers_pb2.INBOX_ITEM_KIND_ASSESSMENT_INPUT] * 2 + [
            receivers_pb2.INBOX_ITEM_KIND_MONITORING_ALERT]
        assert all(not i.HasField("acknowledged_at") and i.HasField("acknowledge_before") for i in items)

        system = FakeRegionalSystem(port=port, tenant=TENANT, keys=keys)
        await system.start()  # back
        try:
            got = await eventually(lambda: len(system.inbox(case_id)) == 3 and system.inbox(case_id),
                                   "the three items at the case system")
            assert [(g["kind"], g["person_ids"]) for g in got] == [
                ("ASSESSMENT_INPUT", ["p-child"]), ("ASSESSMENT_INPUT", ["p-child"]), ("MONITORING_ALERT", ["p-mother"])]
            assert [g["idempotency_key"] for g in got] == [i.idempotency_key for i in items]
            assert got[1]["changes"] == ["RVDK"] and got[2]["organisation"] == OTHER
            assert not any(c["duplicate"] for c in system.calls)

            # Paging: one item a page, three pages, then no token.
            pages, token = [], ""
            while True:
                reply = await region.ListInbox(npb.ListInboxRequest(case_id=case_id, page_size=1, page_token=token))
                pages.append([i.idempotency_key for i in reply.items])
                token = reply.next_page_token
                if not token:
                    break
            assert pages == [[i.idempotency_key] for i in items]
            with pytest.raises(grpc.aio.AioRpcError) as bad:
                await region.ListInbox(npb.ListInboxRequest(page_size=10_000))
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "page_size" in (bad.value.details() or "")

            # Another region sees none of it and cannot acknowledge it (NOT_FOUND, audited).
            assert [i for i in (await stub(OTHER).ListInbox(npb.ListInboxRequest())).items if i.case_id == case_id] == []
            with pytest.raises(grpc.aio.AioRpcError) as foreign:
                await stub(OTHER).AcknowledgeInbox(npb.AcknowledgeInboxRequest(idempotency_keys=[items[0].idempotency_key]))
            assert foreign.value.code() == grpc.StatusCode.NOT_FOUND

            reply = await region.AcknowledgeInbox(npb.AcknowledgeInboxRequest(
                idempotency_keys=[i.idempotency_key for i in items]))
            assert reply.acknowledged == 3
            assert await listed(unacknowledged_only=True) == []
            assert all(i.HasField("acknowledged_at") for i in await listed())
        finally:
            await system.stop()
    # The operator's figure per region (the dashboard's "Inbox per regio", from the notifier's metrics): open is what
    # the region's inbox lists unacknowledged. Not 0: the notifier reads the shared broker, where other tests' records
    # put items of this region in its inbox too (CI64); none of them is acknowledged here.
    observer = Observer(kafka, metrics_urls={"notifier": f"http://127.0.0.1:{metrics_port}/metrics"})
    async with OrgStubs(proc.address, keys, notifier_service_pb2_grpc.NotifierServiceStub) as stub:
        async def unacknowledged() -> int:
            reply = await stub(TENANT).ListInbox(npb.ListInboxRequest(unacknowledged_only=True, page_size=500))
            assert not reply.next_page_token
            return len(reply.items)

        deadline = asyncio.get_running_loop().time() + 30
        while (figures := (await observer.sample())["inbox"].get(TENANT, {})).get("open") != await unacknowledged():
            assert asyncio.get_running_loop().time() < deadline, figures  # the gauges follow every 5 s
            await asyncio.sleep(0.5)
    assert figures["in_time"] == 3 and figures["too_late"] == 0 and figures["share_in_time"] == 1.0
    records = audit.read(data_dir / "audit-notifier.jsonl")
    assert any(r["action"] == "search" and r["what"] == "list inbox" and r["who"]["tenant"] == TENANT for r in records)
    assert any(r["outcome"] == "denied" and r["what"] == "acknowledge inbox item" and r["who"]["tenant"] == OTHER
               for r in records)
    assert audit.verify(data_dir / "audit-notifier.jsonl", keys).ok


