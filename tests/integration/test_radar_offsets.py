"""Issue 9 (a melding lost in make chaos): radar must never commit a record whose outputs it did not publish.

A batch whose handling raises (here: the producer fails with an error that is not a KafkaError, which
radar's retry does not cover). With faust's take_events the agent left the batch by the exception and
the generator's `finally:` acked every event of it; faust restarted the actor and committed those
offsets: meldingen below radar's committed offset without an AssessmentDue, never read again, no dead
letter. Now nothing of the batch is acked, the worker stops (exit 1), and only handled records (and
only a run starting at the committed offset, radar.offsets) are committed; the test runs radar's real
faust app in-process against the real broker."""

from __future__ import annotations

import asyncio
import pathlib
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from radar.app import RadarStreams
from radar.handlers import Radar
from radar.settings import RadarSettings
from radar.testing import Watcher, melding_received, publish_melding
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import decode, new_event_id
from vtkit.kafka import KafkaSettings, Publisher, make_producer
from vtkit.keystore import KeyStore

TENANT = "drenthe"
BACKLOG = 1500


async def _committed_cases(kafka: str, group: str, ours: set[str]) -> set[str]:
    """Which of our meldingen (case ids) lie below `group`'s committed offsets."""
    topic = topics.intake(TENANT)
    tps = [TopicPartition(topic, p) for p in range({s.name: s.partitions for s in topics.all_topics()}[topic])]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        committed = {tp.partition: (await consumer.committed(tp)) or 0 for tp in tps}
    finally:
        await consumer.stop()
    reader = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await reader.start()
    below: set[str] = set()
    seen: set[str] = set()
    try:
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        while not ours <= seen:
            for tp, records in (await reader.getmany(timeout_ms=1000)).items():
                for r in records:
                    case = decode(r.value, r.headers).message.contact_id
                    seen.add(case)
                    if case in ours and r.offset < committed[tp.partition]:
                        below.add(case)
    finally:
        await reader.stop()
    return below


async def test_a_batch_that_fails_is_not_committed(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher) -> None:
    settings = RadarSettings(key_dir=str(keys.root), data_dir=str(tmp_path), app_id=f"vt-radar-{uuid.uuid4().hex[:8]}",
                             table_store="memory", session_timeout=6.0)
    kafka_settings = KafkaSettings(bootstrap_servers=kafka)
    ours: set[str] = set()  # the broker is shared with other tests
    for _ in range(BACKLOG // 250):
        batch = [(melding_received(keys, TENANT, [], event_id=e), e) for e in (new_event_id() for _ in range(250))]
        await asyncio.gather(*(publish_melding(publisher, m, e) for m, e in batch))
        ours.update(m.contact_id for m, _ in batch)

    watcher = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS).start()
    producer = make_producer(kafka_settings, linger_ms=0)
    await producer.start()
    failing = asyncio.Event()
    send = producer.send

    async def send_or_fail(*args: Any, **kwargs: Any) -> Any:
        if failing.is_set():
            failing.clear()
            raise RuntimeError("injected: a failure that is not a KafkaError")
        return await send(*args, **kwargs)

    producer.send = send_or_fail  # type: ignore[method-assign]
    radar = Radar(keys.seal_opener("radar"), keys.pseudonymizer(), settings.monitoring_days, keys.tenant_cipher,
                  case_cipher=keys.case_cipher)
    streams = RadarStreams(settings, kafka_settings, radar, producer)
    app = streams.app
    app.in_worker = True
    starting = asyncio.ensure_future(app.start())
    try:
        await asyncio.wait_for(streams.ready.wait(), 60)
        await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours,
                               what="first assessment")
        failing.set()  # the next batch fails while publishing
        await asyncio.sleep(4)  # faust commits every 2.8 s
        if not app.should_stop:
            await app.consumer.commit()
        await asyncio.sleep(2)
        due = {s.message.case_id for s in watcher.matching(
            lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours)}
    finally:
        await app.stop()
        starting.cancel()
        await producer.stop()
        await watcher.stop()

    committed = await _committed_cases(kafka, settings.app_id, ours)
    assert committed, "nothing committed: the test did not exercise the commit"
    assert len(due) < BACKLOG, "the backlog was done before the flow was suspended"
    assert not failing.is_set(), "the injected failure never happened"
    missing = committed - due
    assert not missing, f"{len(missing)} meldingen committed without an AssessmentDue ({len(committed)} committed)"
