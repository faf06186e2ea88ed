"""vtkit.kafka.send_batched against the real broker: records go out as record batches per partition, each to the
partition a send per record would have chosen, in their order, and a record over the client's request limit fails
alone."""

from __future__ import annotations

import collections
import os

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import TopicPartition
from vtkit import topics
from vtkit.kafka import KafkaSettings, ensure_topics, key_partitioner, send_batched, start_producer, stop_producer

TOPIC = topics.NATIONAL_VERWIJSINDEX  # four partitions


async def _read(kafka: str, topic: str, count: int) -> list[tuple[int, bytes, bytes]]:
    """(partition, key, value) of the first `count` records, in order per partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(4)])
        await consumer.seek_to_beginning()
        found: list[tuple[int, bytes, bytes]] = []
        for _ in range(100):
            for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                found += [(tp.partition, r.key or b"", r.value or b"") for r in records]
            if len(found) >= count:
                return found
        pytest.fail(f"read {len(found)} of {count} records")
    finally:
        await consumer.stop()


async def test_records_go_out_in_batches_to_the_partition_of_their_key_in_order(kafka: str) -> None:
    settings = KafkaSettings(bootstrap_servers=kafka)
    await ensure_topics(settings)
    producer = await start_producer(settings)
    keys = [f"case-{i % 10}".encode() for i in range(40)]  # ten keys, four records each
    values = [f"{i:04d}".encode() + os.urandom(3000) for i in range(40)]  # about five fill a batch (16 KiB)
    try:
        futures = await send_batched(producer, [(TOPIC, k, v, [("ce_id", v[:4])]) for k, v in zip(keys, values, strict=True)])
        await producer.send_and_wait(TOPIC, b"the end", key=b"case-0")  # after the batches, on case-0's partition
        assert len(futures) == 40
        for future in futures:
            await future
        batches = len(set(futures))
        assert 4 < batches < 40  # per partition, and more than one where a batch was full

        alone = await send_batched(producer, [(TOPIC, b"case-1", b"one", []), (TOPIC, b"case-1", b"two", [])],
                                   alone=True)
        assert len(set(alone)) == 2
        for future in alone:
            await future
    finally:
        await stop_producer(producer)

    found = await _read(kafka, TOPIC, 43)
    per_partition: dict[int, list[bytes]] = collections.defaultdict(list)
    for partition, key, value in found:
        assert partition == key_partitioner(key, [0, 1, 2, 3], [0, 1, 2, 3])  # where `send` puts this key
        per_partition[partition].append(value)
    for partition, sent in collections.Counter(key_partitioner(k, [0, 1, 2, 3], [0, 1, 2, 3]) for k in keys).items():
        in_order = [v for v in per_partition[partition] if v[:4].isdigit()]
        assert [v[:4] for v in in_order] == sorted(v[:4] for v in in_order)  # the order they were given in
        assert len(in_order) == sent
    case_0 = per_partition[key_partitioner(b"case-0", [0, 1, 2, 3], [0, 1, 2, 3])]
    assert b"the end" in case_0 and case_0.index(b"the end") > max(i for i, v in enumerate(case_0) if v[:4].isdigit())


async def test_a_record_over_the_request_limit_fails_alone(kafka: str) -> None:
    settings = KafkaSettings(bootstrap_servers=kafka)
    await ensure_topics(settings)
    producer = await start_producer(settings)
    try:
        futures = await send_batched(producer, [(TOPIC, b"a", b"fits", []),
                                                (TOPIC, b"a", b"fits", [("padding", b"h" * 1_100_000)]),
                                                (TOPIC, b"a", b"fits too", [])])
        await futures[0]
        await futures[2]
        with pytest.raises(MessageSizeTooLargeError):
            await futures[1]
    finally:
        await stop_producer(producer)
