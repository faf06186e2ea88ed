"""Two radar workers of one consumer group split the partitions (the keys of radar's tables); each keeps a standby
copy of the other's and answers a read of any case from it (docs/architecture.md, "Radar with two workers")."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import uuid
from typing import Any

import grpc
import pytest
from radar.adapters import proto
from radar.app import PARTITIONS
from radar.open_work import partition_of
from simulators.rvdk import random_bsn
from vt.radar.v1 import events_pb2, radar_peer_service_pb2, radar_peer_service_pb2_grpc, radar_service_pb2, radar_service_pb2_grpc
from vtkit import topics
from vtkit.auth import Caller, on_behalf_metadata
from vtkit.calendar import local_date
from vtkit.channels import OrgStubs
from vtkit.envelope import new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import ServiceProcess, eventually
from vttest.radar import Watcher, melding_received, publish_melding, radar_process, start_radar

REGIONS = ("fryslan", "drenthe", "twente", "utrecht")


def owned(worker: ServiceProcess) -> set[int]:
    """The partitions of the worker's last assignment, from its log."""
    lines = [json.loads(line) for line in worker.log_text().splitlines() if '"partitions assigned"' in line]
    return set(lines[-1]["partitions"]) if lines else set()


async def test_two_workers_split_the_partitions_and_both_answer_a_read_of_every_case(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher) -> None:
    app_id = f"vt-radar-{uuid.uuid4().hex[:8]}"
    workers = [await start_radar(radar_process(kafka, keys, tmp_path / f"data-{n}", tmp_path / f"radar-{n}.log",
                                               app_id)) for n in (1, 2)]
    watcher = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS).start()
    try:
        meldingen = []
        for i in range(40):
            event_id = new_event_id()
            melding = melding_received(keys, REGIONS[i % len(REGIONS)], [random_bsn()], event_id=event_id)
            await publish_melding(publisher, melding, event_id)
            meldingen.append(melding)
        ours = {m.contact_id for m in meldingen}
        seen = await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue)
                                      and s.message.case_id in ours, count=len(ours), timeout=120, what="AssessmentDue")
        assert len({s.message.case_id for s in seen}) == len(ours)

        def split() -> None:  # the last assignment of each (a rebalance may still be settling when the second joins)
            first, second = owned(workers[0]), owned(workers[1])
            assert first and second and not first & second and first | second == set(range(PARTITIONS)), (first, second)

        await eventually(split, "the partitions split between the two workers", truthy=False, timeout=60)
        for worker in workers:
            async with OrgStubs(worker.address, keys, radar_service_pb2_grpc.RadarServiceStub) as stub:
                for m in meldingen:  # its own cases, and the other's from the standby copy (seconds behind at most)
                    reply = await eventually(lambda m=m: stub(m.tenant_id).GetAssessment(
                        radar_service_pb2.GetAssessmentRequest(case_id=m.contact_id)), truthy=False, timeout=30)
                    assert reply.due.case_id == m.contact_id
    finally:
        await watcher.stop()
        for worker in workers:
            assert worker.stop() == 0, worker.log_text()[-3000:]


def decision(case_id: str, follow_up: int = events_pb2.DECISION_NO_FURTHER_STEPS) -> radar_service_pb2.RecordDecisionRequest:
    return radar_service_pb2.RecordDecisionRequest(case_id=case_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE,
                                                   decision=follow_up, responsible_for_safety="VT team Noord")


def access_records(data_dir: pathlib.Path) -> list[dict[str, Any]]:
    path = data_dir / "audit-radar.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def list_all_overdue(stub: radar_service_pb2_grpc.RadarServiceStub, page_size: int) -> list[tuple[str, int]]:
    listed, token = [], ""
    for _ in range(100):
        reply = await stub.ListOverdue(radar_service_pb2.ListOverdueRequest(page_size=page_size, page_token=token))
        listed += [(item.case_id, item.kind) for item in reply.overdue]
        if not (token := reply.next_page_token):
            return listed
    raise AssertionError("ListOverdue did not end")


async def test_two_workers_answer_a_case_at_its_owner_and_list_the_region_from_both(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher) -> None:
    """A decision is guarded by the one worker owning the case, whichever worker the case system calls (before, each
    worker accepted its own, different decision within the standby lag); ListOverdue and GetNorms answer the whole
    region from either worker (before, each listed its own partitions' cases only)."""
    app_id = f"vt-radar-{uuid.uuid4().hex[:8]}"
    data = [tmp_path / f"data-{n}" for n in (1, 2)]
    workers = [await start_radar(radar_process(kafka, keys, data[n], tmp_path / f"radar-{n}.log", app_id))
               for n in (0, 1)]
    watcher = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS).start()
    # A region no other test uses: the lists and norms below count every case of the region the broker holds.
    region, other = "midden-en-west-brabant", "drenthe"
    month_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    try:
        def split() -> tuple[set[int], set[int]]:
            first, second = owned(workers[0]), owned(workers[1])
            assert first and second and not first & second and first | second == set(range(PARTITIONS)), (first, second)
            return first, second

        await eventually(split, "the partitions split between the two workers", truthy=False, timeout=60)
        meldingen = []
        for i in range(24):  # received a month ago: every assessment is overdue
            event_id = new_event_id()
            melding = melding_received(keys, (region, other)[i % 2], [random_bsn()], event_id=event_id,
                                       received_at=month_ago)
            await publish_melding(publisher, melding, event_id)
            meldingen.append(melding)
        ours = {m.contact_id for m in meldingen}
        await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours,
                               count=len(ours), timeout=120, what="AssessmentDue")
        first, second = split()
        regional = sorted(m.contact_id for m in meldingen if m.tenant_id == region)
        held = [{c for c in regional if partition_of(c, PARTITIONS) in part} for part in (first, second)]
        assert held[0] and held[1], "the region's cases should lie with both workers"

        async with OrgStubs(workers[0].address, keys, radar_service_pb2_grpc.RadarServiceStub) as at_first, \
                OrgStubs(workers[1].address, keys, radar_service_pb2_grpc.RadarServiceStub) as at_second:
            stubs = (at_first(region), at_second(region))
            # Lists: the same, complete, from either worker, in pages smaller than a worker's part.
            async def listed_by(stub: radar_service_pb2_grpc.RadarServiceStub, overdue: list[str]) -> list[str]:
                listed = [case_id for case_id, _ in await list_all_overdue(stub, page_size=5)]
                assert len(listed) == len(set(listed)) and sorted(listed) == overdue, (listed, overdue)
                return listed

            by_first = await eventually(lambda: listed_by(stubs[0], regional), "worker 1 lists every overdue case",
                                        timeout=30)
            assert await listed_by(stubs[1], regional) == by_first
            # The norms: both workers' own figures added up, from either worker.
            async with OrgStubs(workers[0].address, keys, radar_peer_service_pb2_grpc.RadarPeerServiceStub) as peer_1, \
                    OrgStubs(workers[1].address, keys, radar_peer_service_pb2_grpc.RadarPeerServiceStub) as peer_2:
                today = proto.date(local_date(dt.datetime.now(dt.UTC)))
                asked = radar_peer_service_pb2.GetOwnNormsRequest(tenant_id=region, to=today, **{"from": today})
                parts = [(await peer("national", "radar").GetOwnNorms(asked)).norms for peer in (peer_1, peer_2)]
            assert [part.overdue_assessments for part in parts] == [len(mine) for mine in held]
            for stub in stubs:
                norms = await stub.GetNorms(radar_service_pb2.GetNormsRequest())
                assert (norms.open_assessments, norms.overdue_assessments) == (
                    sum(p.open_assessments for p in parts), sum(p.overdue_assessments for p in parts))

            # A case of the second worker decided through the first: the second guards it, so another decision
            # through the second is refused, and the same decision through either answers the same event.
            case_id = sorted(held[1])[0]
            decided = await stubs[0].RecordDecision(decision(case_id))
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stubs[1].RecordDecision(decision(case_id, events_pb2.DECISION_ONDERZOEK))
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.value.details()
            for stub in stubs:
                again = await stub.RecordDecision(decision(case_id))
                assert again.event_id == decided.event_id
            # Another region's case through either worker: NOT_FOUND, as from one worker.
            for stub in stubs:
                with pytest.raises(grpc.aio.AioRpcError) as foreign:
                    await stub.GetAssessment(radar_service_pb2.GetAssessmentRequest(
                        case_id=next(m.contact_id for m in meldingen if m.tenant_id == other)))
                assert foreign.value.code() == grpc.StatusCode.NOT_FOUND

            # The owner's access log names the region as the one who decided, relayed by the first worker.
            relayed = [r for r in access_records(data[1]) if r["what"] == "record decision"
                       and r["subject"] == {"case_id": case_id} and r["where"].get("via")]
            assert relayed and all(r["who"]["tenant"] == region and r["where"]["via"] == "national/radar"
                                   for r in relayed), relayed

            # Only radar's own workers may act for another organisation, or ask a worker for its part.
            with pytest.raises(grpc.aio.AioRpcError) as forged:
                await stubs[0].GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=regional[0]),
                                             metadata=on_behalf_metadata(Caller(other, "region")))
            assert forged.value.code() == grpc.StatusCode.PERMISSION_DENIED, forged.value.details()
            async with OrgStubs(workers[0].address, keys, radar_peer_service_pb2_grpc.RadarPeerServiceStub) as peer:
                with pytest.raises(grpc.aio.AioRpcError) as not_a_worker:
                    await peer(region).ListOwnOverdue(radar_peer_service_pb2.ListOwnOverdueRequest(
                        tenant_id=region, limit=10))
                assert not_a_worker.value.code() == grpc.StatusCode.PERMISSION_DENIED
                own = await peer("national", "radar").ListOwnOverdue(radar_peer_service_pb2.ListOwnOverdueRequest(
                    tenant_id=region, limit=100))
                # Its own part only, not its standby copy of the other's.
                assert held[0] <= {item.case_id for item in own.overdue} and not held[1] & {
                    item.case_id for item in own.overdue}

            # The second worker stops: the first takes over its partitions and answers for every case alone (a call
            # in between, forwarded to the stopped worker, is UNAVAILABLE and tried again by the case system).
            assert workers[1].stop() == 0, workers[1].log_text()[-3000:]
            await eventually(lambda: owned(workers[0]) == set(range(PARTITIONS)), "the first worker owns everything",
                             timeout=60)
            theirs = sorted(held[1])[1]

            async def answered() -> None:
                reply = await stubs[0].GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=theirs))
                assert reply.due.case_id == theirs
                await listed_by(stubs[0], [c for c in regional if c != case_id])  # the decided one is not overdue

            await eventually(answered, "the first worker answers the second's cases", truthy=False, timeout=60)
    finally:
        await watcher.stop()
        for worker in workers:
            assert worker.stop() == 0, worker.log_text()[-3000:]
