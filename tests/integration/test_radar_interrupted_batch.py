"""Issue 9: radar must never commit the offset of a MeldingReceived whose AssessmentDue it has not published.

A SIGTERM arrives while radar is working through a backlog, i.e. in the middle of a batch (publishing
its outputs). faust's `take_events` acked every buffered event in a `finally:` when the agent was
cancelled, and the worker could commit those offsets on its way out (not seen in this test before the
fix: faust's stop happened to commit first). A batch is acked only after its outputs are acknowledged,
so after the stop every committed melding has its AssessmentDue, radar exits 0, and the next radar of
the group publishes the AssessmentDue of every other melding."""

from __future__ import annotations

import asyncio
import pathlib
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from radar.testing import Watcher, melding_received, publish_melding, radar_process, start_radar
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import decode, new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore

TENANT = "fryslan"
BACKLOG = 2000


async def _intake_cases(kafka: str, group: str, ours: set[str]) -> tuple[dict[tuple[int, int], str], dict[int, int]]:
    """Every (partition, offset) -> case id of the intake topic, and `group`'s committed offset per partition."""
    topic = topics.intake(TENANT)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = {spec.name: spec.partitions for spec in topics.all_topics()}[topic]
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        committed = {tp.partition: (await consumer.committed(tp)) or 0 for tp in tps}
    finally:
        await consumer.stop()
    reader = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False, auto_offset_reset="earliest")
    await reader.start()
    cases: dict[tuple[int, int], str] = {}
    try:
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        while not ours <= set(cases.values()):
            for tp, records in (await reader.getmany(timeout_ms=1000)).items():
                for r in records:
                    cases[(tp.partition, r.offset)] = decode(r.value, r.headers).message.contact_id
    finally:
        await reader.stop()
    return cases, committed


async def test_sigterm_mid_batch_commits_only_meldingen_whose_assessment_due_was_published(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher) -> None:
    app_id = f"vt-radar-{uuid.uuid4().hex[:8]}"
    meldingen = []
    for _ in range(BACKLOG):
        event_id = new_event_id()
        meldingen.append((melding_received(keys, TENANT, [], event_id=event_id), event_id))
    for i in range(0, BACKLOG, 250):
        await asyncio.gather(*(publish_melding(publisher, m, e) for m, e in meldingen[i:i + 250]))

    ours = {m.contact_id for m, _ in meldingen}  # the broker is shared with other tests
    watcher = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS).start()
    try:
        radar = await start_radar(radar_process(kafka, keys, tmp_path / "data", tmp_path / "radar.log", app_id))
        try:
            # Part of the backlog is done: radar is now busy with a batch.
            await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours,
                                   count=300,
                                   what="first assessments")
        finally:
            code = radar.stop()
        assert code == 0, radar.log_text()[-3000:]
        await asyncio.sleep(3)  # outputs acknowledged before the stop are readable by now
        due = {s.message.case_id for s in watcher.matching(
            lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours)}
    finally:
        await watcher.stop()

    cases, committed = await _intake_cases(kafka, app_id, ours)
    committed_cases = {case for (partition, offset), case in cases.items()
                       if offset < committed[partition] and case in ours}
    assert sum(committed.values()) > 0, "radar committed nothing: the test did not exercise the commit"
    assert len(due) < BACKLOG, "radar finished the backlog before the stop: no batch was interrupted"
    missing = committed_cases - due
    assert not missing, (f"{len(missing)} meldingen committed without an AssessmentDue "
                         f"(committed {committed}, {len(due)} assessments)")

    # The interrupted batch and the rest are read again by the next radar of the same group.
    watcher = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS).start()
    try:
        radar = await start_radar(radar_process(kafka, keys, tmp_path / "data", tmp_path / "radar-2.log", app_id))
        try:
            # (the watcher reads the topic from the start: the first radar's assessments are counted too)
            for _ in range(600):
                if len({s.message.case_id for s in watcher.matching(
                        lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours)}) == BACKLOG:
                    break
                await asyncio.sleep(0.1)
        finally:
            assert radar.stop() == 0, radar.log_text()[-3000:]
        due |= {s.message.case_id for s in watcher.matching(
            lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours)}
    finally:
        await watcher.stop()
    assert due == ours
