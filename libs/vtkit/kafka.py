"""Kafka plumbing shared by the services: settings, topic creation, producer,
and a consumer loop that dead-letters what it cannot use.

Delivery is at-least-once: offsets are committed only after a batch was handled,
so every handler must be idempotent (dedupe on the event id).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import ssl
import struct
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import tenacity
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, KafkaError, MessageSizeTooLargeError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.structs import ConsumerRecord, TopicPartition
from google.protobuf import message as pb_message

from vtkit import metrics, tracing
from vtkit import topics as topic_names
from vtkit.config import ConfigError, env
from vtkit.envelope import MAX_VALUE_BYTES, DecodeError, Envelope, Event, decode, encode, header_value

if TYPE_CHECKING:
    from vtkit.group_cluster import GroupCluster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaSettings:
    """How every client (aiokafka producers, consumers, admin, and radar's faust app) reaches the cluster.

    The embedded broker runs PLAINTEXT on loopback; a production cluster takes SASL_SSL (or SSL with a
    client certificate), set entirely through the environment (docs/security.md, "Kafka security")."""

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


# What an unreachable or restarting broker raises at start-up: connection refused or reset, no metadata
# (KafkaConnectionError and friends), or an attempt that hangs (a black-holed link).
BROKER_ERRORS = (KafkaError, OSError, TimeoutError)
T = TypeVar("T")


class StartupStopped(Exception):
    """`stop` was set (SIGTERM) while waiting for the broker at start-up."""


async def until_connected(what: str, connect: Callable[[], Awaitable[T]], *, stop: asyncio.Event | None = None,
                          attempt_timeout: float | None = 10.0, max_backoff: float = 5.0) -> T:
    """Start-up against a broker that may be down (an outage, or started after us): run `connect` until it
    succeeds instead of exiting, each attempt bounded by attempt_timeout (None: unbounded), waiting 0.5 s, 1 s,
    2 s ... up to max_backoff (with jitter, so restarted services do not retry in step) and logging every failed
    attempt. A set `stop` (SIGTERM) cancels the attempt or the back-off in progress and raises StartupStopped."""

    async def attempt() -> T:
        if stop is None:
            return await asyncio.wait_for(connect(), attempt_timeout)
        trying = asyncio.ensure_future(asyncio.wait_for(connect(), attempt_timeout))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({trying, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not trying.done():
                trying.cancel()
                await asyncio.gather(trying, return_exceptions=True)
        if trying.cancelled():
            raise StartupStopped(what)
        return trying.result()

    async def sleep(seconds: float) -> None:  # a SIGTERM during the back-off should not wait it out
        if stop is None:
            await asyncio.sleep(seconds)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)

    def log_attempt(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning("broker not reachable; retrying", extra={
            "what": what, "attempt": state.attempt_number, "error": f"{type(error).__name__}: {error}",
            "retry_in_s": round(state.upcoming_sleep, 2)})

    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception_type(BROKER_ERRORS),
        wait=tenacity.wait_exponential_jitter(initial=0.5, max=max_backoff, jitter=0.5),
        stop=lambda _: stop is not None and stop.is_set(),
        sleep=sleep, before_sleep=log_attempt, reraise=True)
    async for tried in retrying:
        with tried:
            result = await attempt()
    return result


async def _create_missing_topics(settings: KafkaSettings, specs: list[topic_names.TopicSpec], replication: int) -> None:
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [NewTopic(s.name, s.partitions, replication, topic_configs=s.configs)
                   for s in specs if s.name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another service created them at the same time
    finally:
        await admin.close()


async def ensure_topics(settings: KafkaSettings, specs: Iterable[topic_names.TopicSpec] | None = None,
                        replication: int = 1, *, stop: asyncio.Event | None = None) -> None:
    """Create the declared topics that do not exist yet (auto-creation is off); waits for the broker."""
    chosen = list(specs if specs is not None else topic_names.all_topics())
    await until_connected("ensure_topics", lambda: _create_missing_topics(settings, chosen, replication), stop=stop)


_M, _MASK = 0x5BD1E995, 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """The Java client's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as aiokafka.partitioner.murmur2 computes
    it, in about half its time: the 4-byte words unpacked at once instead of byte by byte, and no mask that cannot
    change the value (libs/vtkit/tests/test_murmur2.py checks it against aiokafka's). A key is hashed once per
    record sent; keys of deliveries and signals are new ones, so remembering them does not help there."""
    length = len(data)
    h = 0x9747B28C ^ length
    words = length // 4
    for k in struct.unpack_from(f"<{words}I", data):
        k = (k * _M) & _MASK
        k ^= k >> 24
        h = ((h * _M) & _MASK) ^ ((k * _M) & _MASK)
    if tail := data[words * 4:]:
        if len(tail) >= 3:
            h ^= tail[2] << 16
        if len(tail) >= 2:
            h ^= tail[1] << 8
        h = ((h ^ tail[0]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


@functools.lru_cache(maxsize=16384)
def _key_hash(key: bytes) -> int:
    return murmur2(key) & 0x7FFFFFFF


def key_partitioner(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """aiokafka's default partitioner (the Java client's murmur2 of the key: every client places a key alike), with
    the hash remembered per key. aiokafka computes murmur2 in pure Python (about 3% of radar's CPU; `murmur2` here is
    faster), and the records of one melding share a few keys (its case id, its household's pseudonyms)."""
    if key is None:
        return int(DefaultPartitioner()(None, all_partitions, available))
    return all_partitions[_key_hash(bytes(key)) % len(all_partitions)]


Outgoing = tuple[str, bytes | None, bytes, Sequence[tuple[str, bytes]]]  # topic, key, value, headers


async def send_batched(producer: AIOKafkaProducer, records: Sequence[Outgoing], *,
                       alone: bool = False) -> list[asyncio.Future[Any]]:
    """Queue `records` as record batches, one per topic partition (more when one is full), each sent once; returns
    each record's delivery future (records of one batch share it). A send per record costs aiokafka a future and
    an accumulator turn each, and the broker more, smaller writes: 108 -> 47 us of the client's CPU and 70 -> 38 us of
    the broker's per record in batches of 8 (docs/measurements.md, "Records sent as batches"). The partition is the
    one `send` would choose (the producer's key_partitioner, make_producer), and records keep their order within it.
    `alone`: every record its own batch, so a refusal names one record (vtkit.outbox isolates a poison row so). A record
    over the client's request limit gets a future failed with MessageSizeTooLargeError, as `send` raises it."""
    futures: list[asyncio.Future[Any] | None] = [None] * len(records)
    groups: dict[tuple[str, int], list[int]] = {}
    partitions: dict[str, list[int]] = {}
    for i, (topic, key, value, headers) in enumerate(records):
        try:
            producer._serialize(key, value, headers)  # noqa: SLF001 (send's own size check, MessageSizeTooLargeError)
        except MessageSizeTooLargeError as exc:
            futures[i] = asyncio.get_running_loop().create_future()
            futures[i].set_exception(exc)  # type: ignore[union-attr]
            continue
        if topic not in partitions:
            partitions[topic] = sorted(await producer.partitions_for(topic))
        groups.setdefault((topic, key_partitioner(key, partitions[topic], partitions[topic])), []).append(i)
    try:
        for (topic, partition), members in groups.items():
            batch, in_batch = producer.create_batch(), list[int]()
            for i in members:
                _, key, value, headers = records[i]
                if in_batch and (alone or batch.append(key=key, value=value, timestamp=None,
                                                       headers=list(headers)) is None):
                    # full (or one record per batch): send it and start the next with this record
                    await _queue(producer, batch, topic, partition, in_batch, futures)
                    batch, in_batch = producer.create_batch(), []
                if not in_batch:  # a batch's first record always fits
                    batch.append(key=key, value=value, timestamp=None, headers=list(headers))
                in_batch.append(i)
            await _queue(producer, batch, topic, partition, in_batch, futures)
    except BaseException:
        # What was queued still goes out; its outcome is nobody's now (the caller sends it all again).
        await asyncio.gather(*{f for f in futures if f is not None}, return_exceptions=True)
        raise
    queued = [f for f in futures if f is not None]
    assert len(queued) == len(records)
    return queued


async def _queue(producer: AIOKafkaProducer, batch: Any, topic: str, partition: int, members: list[int],
                 futures: list[asyncio.Future[Any] | None]) -> None:
    batch.close()
    future = await producer.send_batch(batch, topic, partition=partition)
    for i in members:
        futures[i] = future


def make_producer(settings: KafkaSettings, linger_ms: int = 5) -> AIOKafkaProducer:
    return AIOKafkaProducer(**settings.client_kwargs(), acks="all", enable_idempotence=settings.enable_idempotence,
                            linger_ms=linger_ms, partitioner=key_partitioner)


async def start_producer(settings: KafkaSettings, *, linger_ms: int = 5,
                         stop: asyncio.Event | None = None) -> AIOKafkaProducer:
    """A started producer, once the broker answers (a fresh client per attempt: a failed start leaves
    aiokafka's connection state behind)."""

    async def attempt() -> AIOKafkaProducer:
        producer = make_producer(settings, linger_ms)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer

    return await until_connected("producer", attempt, stop=stop)


P = TypeVar("P", bound=tuple[str, int])  # a (topic, partition) pair: aiokafka's TopicPartition or faust's TP


async def true_end_offsets(settings: KafkaSettings, ends: Mapping[P, int], timeout: float = 5.0) -> dict[P, int]:
    """The end of each partition (the offset after its last record), given what ListOffsets answered.

    tansu (the embedded broker) answers ListOffsets(latest) with the base offset of the partition's last record
    batch + 1, so a reader that stops there misses the rest of that batch: faust's table recovery did, and radar
    lost the last table writes before a restart (a decision recorded, its case never closed). A fetch's high
    watermark is right, so the last batch is fetched and its high watermark taken. Against Kafka both agree; a
    partition that does not answer within `timeout` keeps the end it had."""
    asked = {TopicPartition(tp[0], tp[1]): tp for tp, end in ends.items() if end}
    if not asked:
        return dict(ends)
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    found: dict[P, int] = {}
    try:
        consumer.assign(list(asked))
        for partition, tp in asked.items():
            consumer.seek(partition, ends[tp] - 1)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < len(asked) and asyncio.get_running_loop().time() < deadline:
            await consumer.getmany(timeout_ms=200)
            found.update({tp: mark for partition, tp in asked.items()
                          if (mark := consumer.highwater(partition)) is not None})
    finally:
        await consumer.stop()
    return {tp: max(end, found.get(tp, end)) for tp, end in ends.items()}


async def cluster_id(producer: AIOKafkaProducer) -> str:
    """The cluster id the broker reports (metadata v2+): it changes when the cluster is a new one."""
    request = MetadataRequest([], allow_auto_topic_creation=False)
    response = await producer.client.send(producer.client.get_random_node(), request)
    return str(response.cluster_id or "")


async def stop_producer(producer: AIOKafkaProducer, timeout: float = 5.0) -> None:
    """Stop with a bounded flush: aiokafka's stop waits until every pending record is acknowledged, for ever
    when the broker never accepts one (a notifier hung in its stop after a broker loss). What is not sent is
    still in the producer's outbox or input and goes out after the restart."""
    try:
        await asyncio.wait_for(producer.stop(), timeout)
    except TimeoutError:
        log.warning("producer did not flush within %s s; unsent records stay in the outbox", timeout)


# Adds the producing organisation's signature to a record's headers (vtkit.signing.Signers.headers).
Sign = Callable[[str, bytes | None, bytes, Sequence[tuple[str, bytes]]], list[tuple[str, bytes]]]


class Publisher:
    """Encodes events with their envelope and sends them, waiting for the broker's ack; with `sign`, records of a
    signed topic carry their writer's signature (vtkit.signing)."""

    def __init__(self, producer: AIOKafkaProducer, sign: Sign | None = None):
        self.producer = producer
        self.sign = sign

    async def publish(self, topic: str, key: str, message: pb_message.Message, envelope: Envelope) -> None:
        value, headers = encode(message, envelope)
        if self.sign is not None:
            headers = self.sign(topic, key.encode(), value, headers)
        # The trace headers are outside what the signature covers (vtkit.signing): added after signing.
        span, headers = tracing.start_producer_span(topic, headers)
        try:
            with metrics.child(metrics.PUBLISH_SECONDS, topic).time():
                await self.producer.send_and_wait(topic, value, key=key.encode(), headers=headers)
        except BaseException as exc:
            tracing.end_span(span, exc)
            raise
        tracing.end_span(span)
        metrics.child(metrics.EVENTS_PUBLISHED, topic, envelope.tenant).inc()

    async def publish_batch(self, items: Sequence[tuple[str, str, pb_message.Message, Envelope]]) -> None:
        """Send every (topic, key, message, envelope) as record batches (send_batched), then wait for the broker's acks
        once: one round trip (plus linger) for the batch instead of one per record. Raises when any is not
        acknowledged; the caller's cursor then stays before the batch (at-least-once, consumers dedupe on the event
        id)."""
        outgoing: list[Outgoing] = []
        spans = []
        for topic, key, message, envelope in items:
            value, headers = encode(message, envelope)
            if self.sign is not None:
                headers = self.sign(topic, key.encode(), value, headers)
            span, headers = tracing.start_producer_span(topic, headers)
            spans.append(span)
            outgoing.append((topic, key.encode(), value, headers))
        futures = await send_batched(self.producer, outgoing)
        for span, future in zip(spans, futures, strict=True):
            tracing.end_when_done(span, future)
        await asyncio.gather(*futures)
        for topic, _key, _message, envelope in items:
            metrics.child(metrics.EVENTS_PUBLISHED, topic, envelope.tenant).inc()


Handler = Callable[[Event, ConsumerRecord], Awaitable[None]]


# Provenance of a dead letter (headers added to the record's own): who failed it and where the original is, so
# an operator can tell the consumers apart and `vt-ops redrive` can re-read the original from its topic and offset
# (never the dead letter's copy, which anyone allowed to write the dead-letter topic could have made up).
DL_REASON, DL_TOPIC, DL_PARTITION, DL_OFFSET = "dl_reason", "dl_topic", "dl_partition", "dl_offset"
DL_CONSUMER, DL_GROUP, DL_SERVICE, DL_TIME = "dl_consumer", "dl_group", "dl_service", "dl_time"
DL_HEADERS = (DL_REASON, DL_TOPIC, DL_PARTITION, DL_OFFSET, DL_CONSUMER, DL_GROUP, DL_SERVICE, DL_TIME, "dl_value_bytes")

# A re-driven record is the original again, on its own topic, with this header naming the one consumer that failed
# it: every other consumer of the topic skips it (they handled the original already). Why a header and not a
# re-drive topic per consumer: the record stays on the topic that says which region wrote it (docs/architecture.md,
# "Who wrote a record"), in the partition of its key (order per aggregate), and needs no new topics or ACLs; the
# failed consumer handles it like any record and dedupes on its event id (at-least-once).
REDRIVE_FOR, REDRIVE_OF = "vt_redrive_for", "vt_redrive_of"

# The name of the running service (vtkit.service.run sets it), for the dl_service header.
SERVICE_NAME = ""


def redriven_for_another(record: ConsumerRecord, consumer: str) -> bool:
    """A re-driven record meant for another consumer than `consumer` (skip it: it is not ours to handle again)."""
    for key, value in record.headers or ():
        if key == REDRIVE_FOR:
            return value != consumer.encode()
    return False


async def dead_letter(producer: AIOKafkaProducer, record: ConsumerRecord, consumer: str, reason: str,
                      group: str | None = None, service: str | None = None) -> None:
    """Send `record` to the dead-letter topic with its provenance: the consumer that failed it (the name re-drives
    address: a group id, or radar's agent), its group, the service, the original topic/partition/offset, the
    reason and the time."""
    value = record.value
    headers = [(k, v) for k, v in (record.headers or ()) if k not in (REDRIVE_FOR, REDRIVE_OF)] + [
        (DL_REASON, reason[:1000].encode()),
        (DL_TOPIC, record.topic.encode()),
        (DL_PARTITION, str(record.partition).encode()),
        (DL_OFFSET, str(record.offset).encode()),
        (DL_CONSUMER, consumer.encode()),
        (DL_GROUP, (group or consumer).encode()),
        (DL_SERVICE, (service or SERVICE_NAME or consumer).encode()),
        (DL_TIME, dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").encode()),
    ]
    if value is not None and len(value) > MAX_VALUE_BYTES:
        # An oversized record's copy would exceed the producer's request limit and stop the consumer;
        # its head is enough to investigate, the original stays on its topic at dl_offset.
        headers.append(("dl_value_bytes", str(len(value)).encode()))
        value = value[:MAX_VALUE_BYTES]
    await producer.send_and_wait(topic_names.DEAD_LETTERS, value, key=record.key, headers=headers)
    metrics.DEAD_LETTERS.labels(record.topic, consumer).inc()
    log.warning("dead-lettered record", extra={"topic": record.topic, "offset": record.offset, "reason": reason[:200],
                                               "consumer": consumer})


# Raises a PermanentError for a record whose writer is not proven (vtkit.signing.RecordVerifier.check).
Verify = Callable[[str, bytes | None, bytes | None, Sequence[tuple[str, bytes]] | None], object]


async def _handle_one(record: ConsumerRecord, handler: Handler, producer: AIOKafkaProducer, group_id: str,
                      expected: Sequence[type[pb_message.Message]] | None, verify: Verify | None = None,
                      passes_over: Collection[str] = frozenset()) -> None:
    if redriven_for_another(record, group_id):
        return
    if passes_over and header_value(record.headers, "ce_type") in passes_over:
        # A type the handler never acts on: no signature check, decoding or span (a record without the header is
        # decoded as before, so garbage is still dead-lettered).
        metrics.child(metrics.EVENTS_CONSUMED, record.topic, "", "passed_over").inc()
        return
    with tracing.consumer_span(record.topic, record.headers, group_id, record.partition, record.offset), \
            metrics.child(metrics.PROCESSING_SECONDS, record.topic).time():
        try:
            if verify is not None:
                verify(record.topic, record.key, record.value, record.headers)
            event = decode(record.value, record.headers, expected)
            await handler(event, record)
            metrics.child(metrics.EVENTS_CONSUMED, record.topic, event.envelope.tenant, "handled").inc()
        except (DecodeError, PermanentError) as exc:
            await dead_letter(producer, record, group_id, f"{type(exc).__name__}: {exc}")
            metrics.EVENTS_CONSUMED.labels(record.topic, "", "dead_lettered").inc()


async def consume(settings: KafkaSettings, topics: Sequence[str], group_id: str, handler: Handler,
                  producer: AIOKafkaProducer, stop: asyncio.Event,
                  expected: Sequence[type[pb_message.Message]] | None = None,
                  batch_scope: Callable[[], AbstractContextManager[Any]] | None = None,
                  verify: Verify | None = None, group_cluster: GroupCluster | None = None,
                  passes_over: Collection[str] = frozenset()) -> None:
    """Run until `stop` is set. Undecodable or invalid records go to the dead-letter
    topic and never stop the loop; any other error propagates (the process restarts
    and the uncommitted batch is redelivered). `batch_scope` is entered around the
    handling of each fetched batch and left before its offsets are committed (the
    notifier makes it one SQLite transaction). `group_cluster` makes the group read a
    replaced broker from its start (vtkit.group_cluster). `passes_over`: the ce_types on
    these topics the handler never acts on, passed over unread."""
    async def attempt() -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(*topics, **settings.client_kwargs(), group_id=group_id,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        try:
            await consumer.start()
        except BaseException:
            with contextlib.suppress(TimeoutError):  # bounded: stopping during a group join waits for it
                await asyncio.wait_for(consumer.stop(), 3)
            raise
        return consumer

    # start() includes the group join, which on tansu takes until a killed predecessor's session expires (10 s
    # or more): no bound per attempt here; an unreachable broker fails fast in the bootstrap anyway.
    try:
        consumer = await until_connected(f"consumer {group_id}", attempt, stop=stop, attempt_timeout=None)
    except StartupStopped:
        return
    try:
        if group_cluster is not None:
            try:
                await until_connected(f"cluster id {group_id}", lambda: group_cluster.settle(producer), stop=stop)
            except StartupStopped:
                return
        while not stop.is_set():
            if group_cluster is not None:
                await group_cluster.reset(consumer)
            batches = await consumer.getmany(timeout_ms=200, max_records=200)
            if group_cluster is not None:
                await group_cluster.check(producer)
            if not batches:
                continue
            with batch_scope() if batch_scope else contextlib.nullcontext():
                for tp, records in batches.items():
                    for record in records:
                        await _handle_one(record, handler, producer, group_id, expected, verify, passes_over)
                    metrics.CONSUMER_LAG.labels(group_id, tp.topic, str(tp.partition)).set(
                        max((consumer.highwater(tp) or 0) - records[-1].offset - 1, 0))
            if group_cluster is not None and group_cluster.pending:
                continue  # these positions may be on the lost broker; the reset commits the start instead
            try:
                await consumer.commit()
            except CommitFailedError as exc:
                # The group rebalanced under us (a member came or went, or the broker lost the group with
                # everything else): the batch is delivered again, here or to another member, and deduplicated.
                # aiokafka rejoins on the next fetch. Raising here once stopped the notifier after a broker loss.
                log.warning("offsets not committed: the group rebalanced; the batch will be delivered again",
                            extra={"group": group_id, "error": str(exc)[:200]})
    finally:
        # Bounded: a consumer stopped while it (re)joins its group waits in aiokafka for the join to finish,
        # which on tansu takes until the previous member's session expires (seen after every restart: a
        # SIGTERM then took 10-15 s). Every handled batch is committed already, so nothing is lost by not waiting.
        try:
            await asyncio.wait_for(consumer.stop(), 3)
        except TimeoutError:
            log.warning("consumer did not leave its group in time; closing anyway", extra={"group": group_id})
