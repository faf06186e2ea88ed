"""vt-ops and the observer against the real broker: deadlines, lag, tail (metadata only) and re-drive."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from google.protobuf.timestamp_pb2 import Timestamp
from ops.cli import main as vt_ops
from ops.cli import read_all
from ops.observer import Observer
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import envelope_for
from vtkit.kafka import Publisher
from vttest import eventually

TENANT = "noord-en-midden-limburg"


def ts(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def test_overdue_assessments_appear_per_region_and_leave_when_completed(kafka: str, publisher: Publisher) -> None:
    observer = Observer(kafka)
    await observer.start()
    case = f"case-{uuid.uuid4()}"
    try:
        due = events_pb2.AssessmentDue(tenant_id=TENANT, case_id=case, due_at=ts(dt.datetime(2026, 1, 9, 22, 59, tzinfo=dt.UTC)))
        await publisher.publish(topics.NATIONAL_ASSESSMENTS, case, due, envelope_for(due, source="test", tenant=TENANT))

        async def overdue() -> list[dict[str, str]]:
            return [o for o in (await observer.sample())["overdue"] if o["case_id"] == case]

        rows = await eventually(overdue)
        assert rows[0]["tenant"] == TENANT and rows[0]["kind"] == "assessment"
        assert (await observer.sample())["assessments"][TENANT]["overdue"] >= 1

        done = events_pb2.AssessmentCompleted(tenant_id=TENANT, case_id=case)
        await publisher.publish(topics.NATIONAL_ASSESSMENTS, case, done, envelope_for(done, source="test", tenant=TENANT))
        await eventually(lambda: _gone(observer, case))
    finally:
        await observer.stop()


async def _gone(observer: Observer, case: str) -> bool:
    return not any(o["case_id"] == case for o in (await observer.sample())["overdue"])


async def test_lag_is_reported_per_service_group_and_partition(kafka: str, publisher: Publisher) -> None:
    topic, group = topics.register("zeeland"), f"vt-ops-test-{uuid.uuid4().hex[:8]}"
    entry = events_pb2.RegisterEntry(tenant_id="zeeland", case_id="c")
    await publisher.publish(topic, "k", entry, envelope_for(entry, source="test", tenant="zeeland"))
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=10000)
        await consumer.commit({tp: 0 for tp in consumer.assignment()})  # committed at the start: all is lag
    finally:
        await consumer.stop()
    rows = [r for r in (await Observer(kafka).sample())["lag"] if r["group"] == group]
    assert rows and sum(r["lag"] for r in rows) >= 1
    assert all(r["lag"] == r["end"] - r["committed"] for r in rows)


async def test_tail_shows_metadata_and_never_the_value(kafka: str, publisher: Publisher,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    secret = f"Jansen-{uuid.uuid4().hex[:6]}"
    entry = events_pb2.RegisterEntry(tenant_id="zeeland", case_id=secret)
    envelope = envelope_for(entry, source="test", tenant="zeeland")
    await publisher.publish(topics.register("zeeland"), "k", entry, envelope)
    await asyncio.to_thread(vt_ops, ["--kafka", kafka, "tail", topics.register("zeeland"), "-n", "500"])
    out = capsys.readouterr().out
    assert envelope.id in out and "vt.radar.v1.RegisterEntry" in out
    assert secret not in out


async def test_replay_outbox_publishes_the_same_events_again(kafka: str, keys: Any, data_dir: Any, tmp_path: Any,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """After a broker loss the operator queues the intake outboxes again; the relay re-publishes with the
    original event ids (consumers dedupe), so nothing acknowledged stays missing."""
    from devstack.scenario import TopicWatcher, melding_request, random_bsn, submit_melding
    from vtkit.channels import Org
    from vtkit.grpcserver import wait_healthy
    from vttest.intake import intake_process

    tenant = "zuid-holland-zuid"
    process = intake_process(tmp_path, kafka, keys, tenant, data_dir).start()
    try:
        await wait_healthy(process.address, 20, keys=keys)
        async with TopicWatcher(kafka, [topics.intake(tenant)]) as watch:
            reply = await submit_melding(process.address, Org(keys, tenant), melding_request(random_bsn()))

            def copies() -> list[str]:
                return [e.envelope.id for _, e in watch.events if getattr(e.message, "contact_id", "") == reply.contact_id]

            await eventually(copies)
            first = copies()
            await asyncio.to_thread(vt_ops, ["replay-outbox", "--data-dir", str(data_dir)])
            assert "outbox rows queued again" in capsys.readouterr().out
            await eventually(lambda: len(copies()) > len(first))
            assert set(copies()) == set(first)  # the same event ids, published again
    finally:
        assert process.stop() == 0, process.log_text()[-2000:]


async def test_read_all_returns_every_record_of_a_multi_record_batch(kafka: str) -> None:
    """tansu reports the end offset as the last batch's base offset + 1: the rest of that batch must still be read."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"test-read-all-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, linger_ms=200)
    await producer.start()
    try:
        sent = [await producer.send(topic, f"record-{i}".encode()) for i in range(5)]  # one batch
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    assert sorted(r.value for r in await read_all(kafka, topic)) == [f"record-{i}".encode() for i in range(5)]


async def test_a_service_that_does_not_answer_is_listed_down_and_the_sample_goes_on(kafka: str) -> None:
    from devstack.broker import free_port

    nobody = f"http://127.0.0.1:{free_port()}/metrics"
    sample = await Observer(kafka, metrics_urls={"radar": nobody, "notifier": nobody}).sample()
    assert [(o["service"], o["up"], o["backlog"]) for o in sample["outboxes"]] == [("notifier", False, 0),
                                                                                     ("radar", False, 0)]
    assert sample["norms"] == {} and sample["inbox"] == {}
