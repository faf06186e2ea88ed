"""Test helpers for radar (used by tests/integration/test_radar_*.py): build intake
events the way intake does, run the real radar process, and watch topics."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from radar.adapters import proto
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vtkit import topics
from vtkit.crypto import seal
from vtkit.envelope import DecodeError, Envelope, decode, encode, envelope_for, header_map
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore

from vttest import ServiceProcess

WAIT = 60.0


def sealed_bsn(keys: KeyStore, bsn: str) -> common_pb2.SealedIdentifier:
    s = seal(b"bsn:" + bsn.encode(), "radar", keys.seal_public("radar"))
    return common_pb2.SealedIdentifier(recipient=s.recipient, ephemeral_public_key=s.ephemeral_public_key,
                                       nonce=s.nonce, ciphertext=s.ciphertext)


def melding_received(keys: KeyStore, tenant: str, bsns: Iterable[str], *, event_id: str, acute: bool = False,
                     received_at: dt.datetime | None = None,
                     case_id: str | None = None) -> intake_events.MeldingReceived:
    """A MeldingReceived as intake publishes it: identities sealed to radar, melder under the tenant's key."""
    cipher = keys.tenant_cipher(tenant)
    melder = cipher.encrypt(b'{"name": "J. de Vries", "role": "leerkracht"}', event_id=event_id, field="melder")
    msg = intake_events.MeldingReceived(
        tenant_id=tenant, contact_id=case_id or f"case-{uuid.uuid4()}", reference=f"VT-{uuid.uuid4().hex[:8]}",
        origin=intake_events.MELDING_ORIGIN_DIRECT, melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL,
        nature=[common_pb2.CONCERN_NATURE_CHILD_ABUSE], acute=acute, melder_may_be_named=True,
        melder=common_pb2.EncryptedField(key_id=melder.key_id, nonce=melder.nonce, ciphertext=melder.ciphertext),
        persons=[common_pb2.PersonRef(person_id=f"person-{i}-{uuid.uuid4().hex[:6]}", role=common_pb2.PERSON_ROLE_CHILD,
                                      sealed_identity=sealed_bsn(keys, bsn)) for i, bsn in enumerate(bsns)])
    msg.received_at.FromDatetime(received_at or dt.datetime.now(dt.UTC))
    return msg


async def publish_melding(publisher: Publisher, msg: intake_events.MeldingReceived, event_id: str) -> Envelope:
    envelope = envelope_for(msg, source=f"intake/{msg.tenant_id}", tenant=msg.tenant_id, event_id=event_id)
    await publisher.publish(topics.intake(msg.tenant_id), msg.contact_id, msg, envelope)
    return envelope


@dataclass
class Seen:
    topic: str
    key: bytes | None
    headers: dict[str, str]
    envelope: Envelope | None
    message: Any  # decoded protobuf message (None when undecodable)
    value: bytes | None


def _headers(headers: Any) -> dict[str, str]:
    """Headers as text; a garbage record (fuzz, dead letters) must not stop the watcher."""
    return header_map(headers, strict=False)


class Watcher:
    """Reads topics from the beginning with a fresh consumer group and keeps everything it saw."""

    def __init__(self, bootstrap: str, *topic_names: str):
        self.consumer = AIOKafkaConsumer(*topic_names, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4()}",
                                         auto_offset_reset="earliest", enable_auto_commit=False,
                                         session_timeout_ms=6000, heartbeat_interval_ms=2000)
        self.seen: list[Seen] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> "Watcher":
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        async for record in self.consumer:
            try:
                event = decode(record.value, record.headers)
                envelope, message = event.envelope, event.message
            except DecodeError:
                envelope, message = None, None
            self.seen.append(Seen(record.topic, record.key, _headers(record.headers), envelope, message,
                                  record.value))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()

    def matching(self, predicate: Callable[[Seen], bool]) -> list[Seen]:
        return [s for s in list(self.seen) if predicate(s)]

    async def wait_for(self, predicate: Callable[[Seen], bool], count: int = 1, timeout: float = WAIT,
                       what: str = "records") -> list[Seen]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(predicate)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {count} {what}, saw {len(found)}")
            await asyncio.sleep(0.1)


def radar_process(bootstrap: str, keys: KeyStore, data_dir: pathlib.Path, log_path: pathlib.Path,
                  app_id: str, **extra: str) -> ServiceProcess:
    # A short session timeout: tansu completes a join after about half of it, and a rejoin
    # after a restart only after about twice it.
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(data_dir),
           "RADAR_APP_ID": app_id, "RADAR_SESSION_TIMEOUT": "6", **extra}
    return ServiceProcess("radar", "radar", env=env, log_path=log_path)


async def start_radar(process: ServiceProcess, timeout: float = WAIT) -> ServiceProcess:
    process.start()
    try:
        await wait_healthy(process.address, timeout=timeout, keys=KeyStore(process.env["VT_KEY_DIR"]))
    except TimeoutError:
        process.stop()
        raise AssertionError(f"radar did not become healthy:\n{process.log_text()[-3000:]}") from None
    return process


async def committed_offsets(bootstrap: str, tenant: str, group: str) -> dict[int, int]:
    """`group`'s committed offset per partition of `tenant`'s intake topic (0 where none); asks without joining."""
    topic = topics.intake(tenant)
    tps = [TopicPartition(topic, p) for p in range({s.name: s.partitions for s in topics.all_topics()}[topic])]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {tp.partition: (await consumer.committed(tp)) or 0 for tp in tps}
    finally:
        await consumer.stop()


async def meldingen_below_committed(bootstrap: str, tenant: str, group: str, ours: set[str]) -> tuple[set[str], int]:
    """Which of our meldingen (case ids) lie below `group`'s committed offsets on `tenant`'s intake topic, and the
    sum of those offsets. Other records of the topic (adviezen, other tests' events on the shared broker) are
    skipped."""
    topic = topics.intake(tenant)
    tps = [TopicPartition(topic, p) for p in range({s.name: s.partitions for s in topics.all_topics()}[topic])]
    committed = await committed_offsets(bootstrap, tenant, group)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await reader.start()
    below: set[str] = set()
    seen: set[str] = set()
    try:
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        while not ours <= seen:
            for tp, records in (await reader.getmany(timeout_ms=1000)).items():
                for r in records:
                    message = decode(r.value, r.headers).message
                    if not isinstance(message, intake_events.MeldingReceived):
                        continue
                    seen.add(message.contact_id)
                    if message.contact_id in ours and r.offset < committed[tp.partition]:
                        below.add(message.contact_id)
    finally:
        await reader.stop()
    return below, sum(committed.values())


def radar_input(message: Any, tenant: str = "", event_id: str | None = None, source: str = "test",
                time: dt.datetime | None = None) -> tuple[Any, Envelope]:
    """`message` as radar's agents hand it to radar.handlers: through a Kafka record (envelope and all) and
    radar.adapters.proto. Returns (domain input, envelope); the input is None for an event radar ignores."""
    event = decode(*encode(message, envelope_for(message, source=source, tenant=tenant, event_id=event_id, time=time)))
    name = event.envelope.type
    read = (proto.read_intake if name.startswith("vt.intake.") else proto.read_rvdk if name.startswith("vt.rvdk.")
            else proto.read_verwijsindex if name.startswith("vt.verwijsindex.")
            else proto.read_person_signal if name == "vt.radar.v1.PersonSignal" else proto.read_assessments)
    return read(event.message), event.envelope


def published(out: Any) -> Any:
    """The protobuf message radar publishes for a radar.outputs.Out."""
    return proto.message_of(out.event)
