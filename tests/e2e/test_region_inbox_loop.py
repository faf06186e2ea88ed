"""The region inbox's loop through every real process (two intakes, radar, notifier, the fake case systems, the
embedded broker): region A decides "voorwaarden en vervolg" and its case system goes down; region B receives a
melding about the same child. A's monitoring alert waits (ListInbox shows it, not acknowledged) and reaches A's
case system once when it is back, naming A's own person id; acknowledged, it leaves the open inbox."""

from __future__ import annotations

import asyncio
import json
import pathlib
from typing import Any

from devstack.scenario import TopicWatcher, melding_request, random_bsn, submit_melding, wait_for_record
from devstack.stack import Stack
from vt.notifier.v1 import notifier_service_pb2 as npb
from vt.notifier.v1 import notifier_service_pb2_grpc, receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_service_pb2, radar_service_pb2_grpc
from vtkit import topics
from vtkit.channels import Org, OrgStubs
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vttest import eventually

A, B = "amsterdam-amstelland", "rotterdam-rijnmond"


def alerts(record: pathlib.Path, case_id: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in record.read_text().splitlines() if line.strip()] if record.exists() else []
    return [r for r in rows if r.get("method") == "DeliverInboxItem" and r.get("case_id") == case_id
            and r.get("kind") == "MONITORING_ALERT" and r.get("status") == "OK"]


async def test_a_monitoring_alert_waits_for_a_case_system_that_is_down_and_arrives_once(
        kafka: str, tmp_path: pathlib.Path) -> None:
    stack = Stack(kafka, tmp_path / "var", tenants=(A, B))
    stack.plan()
    record = tmp_path / "var" / "data" / f"regional-system-{A}.jsonl"
    try:
        await stack.start()
        keys = KeyStore(stack.key_dir)
        system_a = stack.processes[f"regional-system-{A}"]
        bsn = random_bsn()
        reply_a = await submit_melding(stack.processes[f"intake-{A}"].address, Org(keys, A), melding_request(bsn))
        case_a, person_a = reply_a.contact_id, reply_a.person_ids[0]
        async with TopicWatcher(kafka, [topics.NATIONAL_RADAR_PERSON]) as watch, \
                OrgStubs(stack.processes["radar"].address, keys, radar_service_pb2_grpc.RadarServiceStub) as radar:
            decision = radar_service_pb2.RecordDecisionRequest(
                case_id=case_a, judgement=radar_events.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
                decision=radar_events.DECISION_VOORWAARDEN_EN_VERVOLG, responsible_for_safety="wijkteam Oost")
            await eventually(lambda: radar(A).RecordDecision(decision), truthy=False)  # NOT_FOUND until radar has the case
            await watch.wait_for(lambda t, m: isinstance(m, radar_events.PersonSignal) and m.HasField("case_closed")
                                 and m.case_closed.case_id == case_a, 60, "the household monitored")

        system_a.stop()  # A's case system goes down
        await submit_melding(stack.processes[f"intake-{B}"].address, Org(keys, B), melding_request(bsn))
        async with OrgStubs(stack.processes["notifier"].address, keys,
                            notifier_service_pb2_grpc.NotifierServiceStub) as notifier:
            async def listed() -> npb.ListInboxResponse:
                reply = await notifier(A).ListInbox(npb.ListInboxRequest(case_id=case_a, unacknowledged_only=True))
                assert any(i.kind == receivers_pb2.INBOX_ITEM_KIND_MONITORING_ALERT for i in reply.items), reply
                return reply

            waiting = await eventually(listed, timeout=60, truthy=False)
            [alert] = [i for i in waiting.items if i.kind == receivers_pb2.INBOX_ITEM_KIND_MONITORING_ALERT]
            assert list(alert.person_ids) == [person_a] and alert.tenant_id == A
            assert alert.monitoring_alert.signal.organisation.tenant_id == B
            assert alerts(record, case_a) == []  # nobody could receive it yet

            system_a.start()  # back, on the same address
            await wait_healthy(system_a.address, timeout=60, keys=keys)
            arrived = await wait_for_record(str(record), lambda r: r in alerts(record, case_a), timeout=120)
            assert arrived["person_ids"] == [person_a] and arrived["idempotency_key"] == alert.idempotency_key
            assert arrived["source"] == "OTHER_VT_ORGANISATION" and arrived["organisation"] == B

            done = await notifier(A).AcknowledgeInbox(npb.AcknowledgeInboxRequest(idempotency_keys=[alert.idempotency_key]))
            assert done.acknowledged == 1
            left = await notifier(A).ListInbox(npb.ListInboxRequest(case_id=case_a, unacknowledged_only=True))
            assert alert.idempotency_key not in {i.idempotency_key for i in left.items}
            await asyncio.sleep(1.0)  # a scan or two later: still one delivery
            assert len(alerts(record, case_a)) == 1
    finally:
        stack.stop()
