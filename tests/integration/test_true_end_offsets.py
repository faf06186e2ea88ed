"""vtkit.kafka.true_end_offsets: the end of a partition whose last record batch holds several records.

The embedded broker answers ListOffsets(latest) with that batch's first offset + 1; faust's table recovery stopped
there (docs/architecture.md, "Broker loss"). The function must give the offset after the last record."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition
from vtkit.kafka import KafkaSettings, true_end_offsets


async def test_the_end_after_a_batch_of_five_records_is_five(kafka: str) -> None:
    settings = KafkaSettings(bootstrap_servers=kafka)
    topic, empty = f"test-ends-{uuid.uuid4().hex[:8]}", f"test-ends-empty-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1), NewTopic(empty, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=50)  # one batch of five
    await producer.start()
    try:
        sent = await asyncio.gather(*[await producer.send(topic, b"x", partition=0) for _ in range(5)])
    finally:
        await producer.stop()
    assert [r.offset for r in sent] == [0, 1, 2, 3, 4]

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        reported = await consumer.end_offsets([TopicPartition(topic, 0), TopicPartition(empty, 0)])
    finally:
        await consumer.stop()
    ends = await true_end_offsets(settings, reported)
    assert ends == {TopicPartition(topic, 0): 5, TopicPartition(empty, 0): 0}, reported
