"""The shared Kafka plumbing against the real broker: envelope round trip, explicit
topics, and a consumer that dead-letters what it cannot decode and keeps going."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord
from devstack.scenario import TopicWatcher
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import Event, envelope_for, header_map
from vtkit.kafka import KafkaSettings, Publisher, consume, ensure_topics, make_producer


async def test_topics_are_created_explicitly(kafka: str) -> None:
    settings = KafkaSettings(bootstrap_servers=kafka)
    await ensure_topics(settings)
    await ensure_topics(settings)  # idempotent
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    assert {topics.intake("zeeland"), topics.NATIONAL_ASSESSMENTS, topics.DEAD_LETTERS} <= existing


@pytest.fixture()
async def producer(kafka: str) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer; every declared topic exists."""
    settings = KafkaSettings(bootstrap_servers=kafka)
    await ensure_topics(settings)
    started = make_producer(settings)
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def dead_letters_of(dead: TopicWatcher, key: str) -> list[ConsumerRecord]:
    """The dead letters keyed `key`, once there is one."""
    deadline = asyncio.get_running_loop().time() + 30
    while not any(r for r in dead.records if r.key == key.encode()):
        assert asyncio.get_running_loop().time() < deadline, "no dead letter"
        await asyncio.sleep(0.2)
    return [r for r in dead.records if r.key == key.encode()]


async def test_undecodable_record_goes_to_dead_letters_and_the_consumer_continues(
        kafka: str, producer: AIOKafkaProducer) -> None:
    topic = topics.register("zeeland")
    marker = str(uuid.uuid4())
    handled: list[Event] = []
    stop = asyncio.Event()

    async def handler(event: Event, record: object) -> None:
        if event.message.case_id == marker:
            handled.append(event)
            stop.set()

    await producer.send_and_wait(topic, b"\x00garbage", key=marker.encode(), headers=[("ce_id", marker.encode())])
    good = events_pb2.RegisterEntry(tenant_id="zeeland", case_id=marker)
    await Publisher(producer).publish(topic, marker, good, envelope_for(good, source="test", tenant="zeeland"))
    async with TopicWatcher(kafka, [topics.DEAD_LETTERS]) as dead:
        await asyncio.wait_for(consume(KafkaSettings(bootstrap_servers=kafka), [topic], f"test-{marker}", handler,
                                       producer, stop), 60)
        assert [e.message.case_id for e in handled] == [marker]
        [record] = await dead_letters_of(dead, marker)
    reason = header_map(record.headers, strict=False)["dl_reason"]
    assert "missing header" in reason and header_map(record.headers, strict=False)["dl_topic"] == topic


async def test_types_the_handler_never_acts_on_are_passed_over_unread(kafka: str, producer: AIOKafkaProducer) -> None:
    """A consumer given `passes_over` neither decodes nor dead-letters a record of such a type, even one that does not
    decode; a record of another type that does not decode is dead-lettered as before. All three records share a key,
    so they are in one partition, handled in order, and their dead letters are in one partition too."""
    topic = topics.register("zeeland")
    marker = str(uuid.uuid4())
    handled: list[Event] = []
    stop = asyncio.Event()

    async def handler(event: Event, record: object) -> None:
        handled.append(event)
        if getattr(event.message, "own_case_id", "") == marker:
            stop.set()

    def garbage(ce_type: str, ce_id: str) -> list[tuple[str, bytes]]:
        return [("ce_id", ce_id.encode()), ("ce_type", ce_type.encode())]

    entry, match = events_pb2.RegisterEntry.DESCRIPTOR.full_name, events_pb2.RegisterMatch.DESCRIPTOR.full_name
    await producer.send_and_wait(topic, b"\x00garbage", key=marker.encode(), headers=garbage(entry, "passed-over"))
    await producer.send_and_wait(topic, b"\x00garbage", key=marker.encode(), headers=garbage(match, "control"))
    good = events_pb2.RegisterMatch(addressed_to="zeeland", own_case_id=marker)
    await Publisher(producer).publish(topic, marker, good, envelope_for(good, source="test", tenant="zeeland"))
    async with TopicWatcher(kafka, [topics.DEAD_LETTERS]) as dead:
        await asyncio.wait_for(consume(KafkaSettings(bootstrap_servers=kafka), [topic], f"test-{marker}", handler,
                                       producer, stop, passes_over={entry}), 60)
        ours = [header_map(r.headers, strict=False)["ce_id"] for r in await dead_letters_of(dead, marker)]
    assert ours == ["control"]  # the passed-over record, one offset before it, was not dead-lettered
    assert [type(e.message).__name__ for e in handled if getattr(e.message, "own_case_id", "") == marker] == [
        "RegisterMatch"]
