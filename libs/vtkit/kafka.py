"""Kafka plumbing shared by the services: settings, topic creation, producer,
and a consumer loop that dead-letters what it cannot use.

Delivery is at-least-once: offsets are committed only after a batch was handled,
so every handler must be idempotent (dedupe on the event id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import ConsumerRecord
from google.protobuf import message as pb_message

from vtkit import metrics
from vtkit import topics as topic_names
from vtkit.config import env
from vtkit.envelope import DecodeError, Envelope, Event, decode, encode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str = env("KAFKA_BOOTSTRAP_SERVERS", doc="host:port[,host:port]")
    security_protocol: str = env("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    sasl_mechanism: str = env("KAFKA_SASL_MECHANISM", "")
    sasl_username: str = env("KAFKA_SASL_USERNAME", "")
    sasl_password: str = env("KAFKA_SASL_PASSWORD", "")
    # The embedded broker has no InitProducerId; turn on only against real Kafka.
    enable_idempotence: bool = env("KAFKA_ENABLE_IDEMPOTENCE", False)

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers, "security_protocol": self.security_protocol}
        if self.sasl_mechanism:
            kwargs.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                          sasl_plain_password=self.sasl_password)
        return kwargs


class PermanentError(Exception):
    """A record that is well-formed Kafka-wise but can never be processed (fails validation)."""


async def ensure_topics(settings: KafkaSettings, specs: Iterable[topic_names.TopicSpec] | None = None,
                        replication: int = 1) -> None:
    specs = list(specs if specs is not None else topic_names.all_topics())
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(s.name, s.partitions, replication) for s in specs if s.name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another service created them at the same time
    finally:
        await admin.close()


def make_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(**settings.client_kwargs(), acks="all", enable_idempotence=settings.enable_idempotence,
                            linger_ms=5)


class Publisher:
    """Encodes events with their envelope and sends them, waiting for the broker's ack."""

    def __init__(self, producer: AIOKafkaProducer):
        self.producer = producer

    async def publish(self, topic: str, key: str, message: pb_message.Message, envelope: Envelope) -> None:
        value, headers = encode(message, envelope)
        with metrics.PUBLISH_SECONDS.labels(topic).time():
            await self.producer.send_and_wait(topic, value, key=key.encode(), headers=headers)
        metrics.EVENTS_PUBLISHED.labels(topic, envelope.tenant).inc()


Handler = Callable[[Event, ConsumerRecord], Awaitable[None]]


async def dead_letter(producer: AIOKafkaProducer, record: ConsumerRecord, consumer: str, reason: str) -> None:
    headers = list(record.headers or ()) + [
        ("dl_reason", reason[:1000].encode()),
        ("dl_topic", record.topic.encode()),
        ("dl_partition", str(record.partition).encode()),
        ("dl_offset", str(record.offset).encode()),
        ("dl_consumer", consumer.encode()),
    ]
    await producer.send_and_wait(topic_names.DEAD_LETTERS, record.value, key=record.key, headers=headers)
    metrics.DEAD_LETTERS.labels(record.topic, consumer).inc()
    log.warning("dead-lettered record", extra={"topic": record.topic, "offset": record.offset, "reason": reason[:200]})


async def _handle_one(record: ConsumerRecord, handler: Handler, producer: AIOKafkaProducer, group_id: str,
                      expected: Sequence[type[pb_message.Message]] | None) -> None:
    with metrics.PROCESSING_SECONDS.labels(record.topic).time():
        try:
            event = decode(record.value, record.headers, expected)
            await handler(event, record)
            metrics.EVENTS_CONSUMED.labels(record.topic, event.envelope.tenant, "handled").inc()
        except (DecodeError, PermanentError) as exc:
            await dead_letter(producer, record, group_id, f"{type(exc).__name__}: {exc}")
            metrics.EVENTS_CONSUMED.labels(record.topic, "", "dead_lettered").inc()


async def consume(settings: KafkaSettings, topics: Sequence[str], group_id: str, handler: Handler,
                  producer: AIOKafkaProducer, stop: asyncio.Event,
                  expected: Sequence[type[pb_message.Message]] | None = None) -> None:
    """Run until `stop` is set. Undecodable or invalid records go to the dead-letter
    topic and never stop the loop; any other error propagates (the process restarts
    and the uncommitted batch is redelivered)."""
    consumer = AIOKafkaConsumer(*topics, **settings.client_kwargs(), group_id=group_id,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=200)
            for tp, records in batches.items():
                for record in records:
                    await _handle_one(record, handler, producer, group_id, expected)
                metrics.CONSUMER_LAG.labels(group_id, tp.topic, str(tp.partition)).set(
                    max((consumer.highwater(tp) or 0) - records[-1].offset - 1, 0))
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()
