"""Two radar workers of one consumer group split the partitions (the keys of radar's tables); each keeps a standby
copy of the other's and answers a read of any case from it (docs/architecture.md, "Radar with two workers")."""

from __future__ import annotations

import json
import pathlib
import uuid

from radar.app import PARTITIONS
from simulators.rvdk import random_bsn
from vt.radar.v1 import events_pb2, radar_service_pb2, radar_service_pb2_grpc
from vtkit import topics
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
