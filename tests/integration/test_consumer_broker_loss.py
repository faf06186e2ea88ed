"""A consumer group whose broker is replaced by an empty one reads the new broker from its start
(vtkit.group_cluster; docs/architecture.md, "Broker loss").

aiokafka commits a batch read from the lost broker on the new one when the commit is under way at the loss, and
tansu takes it: the group then fetches the new broker from the lost one's positions. Here the handler holds the
lost broker's last record until the new broker holds more records than that, so the commit always lands on it;
both tests check that it did."""

from __future__ import annotations

import asyncio
import pathlib
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from devstack.broker import EmbeddedBroker, free_port
from vt.radar.v1 import events_pb2
from vtkit import metrics
from vtkit.envelope import Event, envelope_for
from vtkit.group_cluster import GroupCluster
from vtkit.kafka import KafkaSettings, Publisher, cluster_id, consume, ensure_topics, key_partitioner, make_producer
from vtkit.topics import TopicSpec

ON_THE_LOST, ON_THE_NEW = 10, 15
# tansu creates a topic a client merely asks about, with 4 partitions (docs/architecture.md, "Broker loss"): the new
# broker may have it before the test declares it. Every record has one key, so all are in one partition.
PARTITIONS, KEY = 4, "one-household"
HELD = key_partitioner(KEY.encode(), list(range(PARTITIONS)), [])  # the partition of every record


async def _publish(settings: KafkaSettings, topic: str, names: list[str]) -> None:
    await ensure_topics(settings, [TopicSpec(topic, PARTITIONS)])
    producer = make_producer(settings)
    await producer.start()
    try:
        for name in names:
            message = events_pb2.RegisterEntry(tenant_id="zeeland", case_id=name)
            await Publisher(producer).publish(topic, KEY, message, envelope_for(message, source="test",
                                                                                 tenant="zeeland"))
    finally:
        await producer.stop()


async def _until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.1)


async def _committed(settings: KafkaSettings, group: str, topic: str) -> int | None:
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, HELD))
    finally:
        await consumer.stop()


class LostUnderACommit:
    """A broker, and a handler that holds the lost broker's last record until the broker was replaced by one that
    holds ON_THE_NEW records: the batch's commit then goes to the new broker. Entered, the lost broker holds its
    ON_THE_LOST records and the consumers' producer is started."""

    def __init__(self, tmp_path: pathlib.Path):
        self.port = free_port()
        self.broker = EmbeddedBroker(self.port).start()
        self.settings = KafkaSettings(bootstrap_servers=self.broker.bootstrap_servers)
        self.producer = make_producer(self.settings)
        self.topic, self.group = f"test-loss-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
        self.lost = [f"lost-{i}" for i in range(ON_THE_LOST)]
        self.new = [f"new-{i}" for i in range(ON_THE_NEW)]
        self.handled: list[str] = []
        self.replaced = asyncio.Event()
        self.data_dir = tmp_path

    async def __aenter__(self) -> LostUnderACommit:
        await _publish(self.settings, self.topic, self.lost)
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()
        self.broker.stop()

    def consume(self, stop: asyncio.Event, cluster: GroupCluster,
                after_the_loss: Callable[[], None] = lambda: None) -> asyncio.Task[None]:
        async def handle(event: Event, record: object) -> None:
            self.handled.append(event.message.case_id)
            if event.message.case_id == self.lost[-1]:
                await self.replaced.wait()
                after_the_loss()
        return asyncio.create_task(consume(self.settings, [self.topic], self.group, handle, self.producer, stop,
                                           group_cluster=cluster))

    async def replace_when_the_last_is_held(self) -> None:
        await _until(lambda: self.lost[-1] in self.handled, "the lost broker's records were not read")
        self.broker.stop()
        self.broker = EmbeddedBroker(self.port).start()
        await _publish(self.settings, self.topic, self.new)
        self.replaced.set()

    async def every_new_record_read(self) -> None:
        await _until(lambda: set(self.new) <= set(self.handled),
                     f"records of the new broker never read: {sorted(set(self.new) - set(self.handled))}")


async def test_a_consumer_reads_a_replaced_broker_from_its_start_after_committing_its_old_positions_there(
        tmp_path: pathlib.Path) -> None:
    stop = asyncio.Event()
    async with LostUnderACommit(tmp_path) as loss:
        rereads = metrics.CONSUMER_REREADS.labels(loss.group)._value.get()
        consuming = loss.consume(stop, GroupCluster(loss.data_dir, loss.group, check_seconds=0.5))
        try:
            await loss.replace_when_the_last_is_held()
            await loss.every_new_record_read()
            assert metrics.CONSUMER_REREADS.labels(loss.group)._value.get() == rereads + 1
            new_cluster = await cluster_id(loss.producer)
            await _until(lambda: (loss.data_dir / f"{loss.group}.cluster").read_text().strip() == new_cluster,
                         "the new cluster was not remembered")
        finally:
            stop.set()
            await asyncio.wait_for(consuming, 30)


async def test_a_consumer_stopped_before_it_noticed_the_loss_reads_the_new_broker_from_its_start_when_it_starts(
        tmp_path: pathlib.Path) -> None:
    async with LostUnderACommit(tmp_path) as loss:
        # It asks for the cluster only at its start, and is stopped (as if killed) right after the batch's commit.
        stop = asyncio.Event()
        consuming = loss.consume(stop, GroupCluster(loss.data_dir, loss.group, check_seconds=3600),
                                 after_the_loss=stop.set)
        await loss.replace_when_the_last_is_held()
        await asyncio.wait_for(consuming, 30)
        assert not set(loss.new) & set(loss.handled)
        assert await _committed(loss.settings, loss.group, loss.topic) == ON_THE_LOST  # the lost broker's position

        stop = asyncio.Event()
        consuming = loss.consume(stop, GroupCluster(loss.data_dir, loss.group))
        try:
            await loss.every_new_record_read()
        finally:
            stop.set()
            await asyncio.wait_for(consuming, 30)
        assert await _committed(loss.settings, loss.group, loss.topic) == ON_THE_NEW
