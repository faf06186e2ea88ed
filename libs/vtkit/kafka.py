"""Kafka plumbing shared by the services: settings, topic creation, producer,
and a consumer loop that dead-letters what it cannot use.

Delivery is at-least-once: offsets are committed only after a batch was handled,
so every handler must be idempotent (dedupe on the event id).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from aiokafka.structs import ConsumerRecord
from google.protobuf import message as pb_message

from vtkit import metrics
from vtkit import topics as topic_names
from vtkit.config import ConfigError, env
from vtkit.envelope import DecodeError, Envelope, Event, decode, encode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaSettings:
    """How every client (aiokafka producers, consumers, admin, and radar's faust app) reaches the cluster.

    The embedded broker runs PLAINTEXT on loopback; a production cluster takes SASL_SSL (or SSL with a
    client certificate), set entirely through the environment (README, "Kafka security")."""

    bootstrap_servers: str = env("KAFKA_BOOTSTRAP_SERVERS", doc="host:port[,host:port]")
    security_protocol: str = env("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", doc="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
    sasl_mechanism: str = env("KAFKA_SASL_MECHANISM", "", doc="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
    sasl_username: str = env("KAFKA_SASL_USERNAME", "")
    sasl_password: str = env("KAFKA_SASL_PASSWORD", "")
    ssl_cafile: str = env("KAFKA_SSL_CAFILE", "", doc="PEM CA bundle the broker certificates are checked against "
                                                      "(empty: the system CAs)")
    ssl_certfile: str = env("KAFKA_SSL_CERTFILE", "", doc="PEM client certificate (mutual TLS)")
    ssl_keyfile: str = env("KAFKA_SSL_KEYFILE", "", doc="PEM private key of the client certificate")
    ssl_key_password: str = env("KAFKA_SSL_KEY_PASSWORD", "", doc="password of KAFKA_SSL_KEYFILE, if encrypted")
    # The embedded broker has no InitProducerId; turn on only against real Kafka.
    enable_idempotence: bool = env("KAFKA_ENABLE_IDEMPOTENCE", False)

    def __post_init__(self) -> None:
        # A typo must stop the service at start, not silently fall back to plaintext.
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise ConfigError(f"configuration error: KAFKA_SECURITY_PROTOCOL={self.security_protocol!r} is not one "
                              f"of {', '.join(SECURITY_PROTOCOLS)}")
        if self.uses_sasl and not self.sasl_mechanism:
            raise ConfigError(f"configuration error: KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                              "KAFKA_SASL_MECHANISM")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ConfigError("configuration error: KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of SSL / SASL_SSL (broker certificate and host name always verified)."""
        if not self.uses_tls:
            return None
        return create_ssl_context(cafile=self.ssl_cafile or None, certfile=self.ssl_certfile or None,
                                  keyfile=self.ssl_keyfile or None, password=self.ssl_key_password or None)

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers, "security_protocol": self.security_protocol}
        if self.uses_tls:
            kwargs["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            kwargs.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                          sasl_plain_password=self.sasl_password)
        return kwargs

    def faust_credentials(self) -> Any:
        """The same settings as faust `broker_credentials` (None for PLAINTEXT), so radar's streams connect
        exactly like the aiokafka clients. faust maps them back with credentials_to_aiokafka_auth."""
        if not (self.uses_tls or self.uses_sasl):
            return None
        from faust.auth import SASLCredentials, SSLCredentials  # only radar has faust

        context = self.ssl_context()
        if self.uses_sasl:
            return SASLCredentials(username=self.sasl_username, password=self.sasl_password,
                                   mechanism=self.sasl_mechanism, ssl_context=context)
        return SSLCredentials(context)


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


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
