"""Fuzz every Kafka consumer of the suite (docs/measurements.md, "Fuzz") on real service processes.

On every topic radar, notifier and the verwijsindex consume, publish random bytes without an envelope,
random bytes and a truncated valid record under the topic's type, a valid record with an unknown
ce_type, a header that is not UTF-8, a ce_time that is no time, a record with one field of several MB,
a record of a type foreign to the topic, and FUZZ_EXAMPLES records drawn from the topic's type and as
many mutants of a valid record (vttest.fuzz). Each record that cannot be decoded must reach vt.national.deadletter.v1 from
every consumer of its topic with a reason; what decodes may be handled or dead-lettered. Afterwards a
valid melding still yields radar's assessment and notifier's delivery, valid BRP facts are still
applied, and every process is alive and SERVING.
"""

from __future__ import annotations

import asyncio
import collections
import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from devstack.scenario import random_bsn
from google.protobuf import message as pb_message
from notifier.consumer import source_topics
from radar.adapters.proto import PASSED_OVER_TYPES
from simulators.brp import build_facts, publish_facts
from verwijsindex.bootstrap import BRP_GROUP
from vt.audit.v1 import events_pb2 as audit_events
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import notifier_service_pb2 as npb
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_service_pb2 as rpb
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vt.verwijsindex.v1 import events_pb2 as vi_events
from vtkit import topics
from vtkit.channels import client_channel
from vtkit.envelope import envelope_for, new_event_id
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import Publisher
from vtkit.signing import Signers
from vttest import eventually
from vttest.fuzz import examples, messages, mutations
from vttest.notifier import assessment_due
from vttest.radar import melding_received, publish_melding

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
TENANT = "utrecht"
# Several MB: above the 1 MB default of a Kafka producer, which is what a dead-letter copy is sent with.
HUGE = 4 * 1024 * 1024

# The record type each consumed topic carries, and which services consume it.
TOPICS: dict[str, tuple[type[pb_message.Message], set[str]]] = {
    topics.intake(TENANT): (intake_events.MeldingReceived, {"radar", "notifier"}),
    topics.register(TENANT): (radar_events.RegisterMatch, {"notifier"}),
    topics.NATIONAL_RVDK: (rvdk_events.RvdkSignal, {"radar"}),
    topics.NATIONAL_VERWIJSINDEX: (vi_events.SignalMatch, {"radar", "notifier"}),
    topics.NATIONAL_RADAR_PERSON: (radar_events.PersonSignal, {"radar"}),
    topics.NATIONAL_ASSESSMENTS: (radar_events.AssessmentDue, {"radar", "notifier"}),
    topics.NATIONAL_BRP: (vi_events.HouseholdFacts, {"verwijsindex"}),
}


@dataclass
class Bad:
    kind: str
    topic: str
    value: bytes
    headers: list[tuple[str, bytes]]
    must_dead_letter: bool  # False: it decodes, so handling it is as right as dead-lettering it
    fuzz_id: str = ""


def parses(cls: type[pb_message.Message], value: bytes) -> bool:
    try:
        cls.FromString(value)
        return True
    except Exception:
        return False


def valid_sample(cls: type[pb_message.Message], keys: Any) -> pb_message.Message:
    if cls is intake_events.MeldingReceived:
        return melding_received(keys, TENANT, [random_bsn()], event_id=new_event_id())
    if cls is radar_events.AssessmentDue:
        return assessment_due(TENANT, f"case-{uuid.uuid4()}")
    if cls is vi_events.HouseholdFacts:
        return build_facts(keys, random_bsn(), "Stationsstraat 1, 3511 AA Utrecht", "0344")
    # Others: the richest of a few drawn instances (truncating it must cut through fields).
    return max(examples(messages(cls.DESCRIPTOR), 8, seed=7), key=lambda m: len(m.SerializeToString()))


def with_huge_field(sample: pb_message.Message) -> pb_message.Message:
    huge = type(sample)()
    huge.CopyFrom(sample)
    field = next(f for f in huge.DESCRIPTOR.fields if f.type == f.TYPE_STRING and not f.is_repeated)
    setattr(huge, field.name, "x" * HUGE)
    return huge


def bad_records(topic: str, keys: Any) -> list[Bad]:
    cls = TOPICS[topic][0]
    sample = valid_sample(cls, keys)
    value = sample.SerializeToString()
    headers = envelope_for(sample, source="fuzz", tenant=TENANT).headers()

    def replaced(name: str, new: bytes) -> list[tuple[str, bytes]]:
        return [(k, new if k == name else v) for k, v in headers]

    noise = os.urandom(200)
    truncated = value[: len(value) // 2 + 1]
    foreign = audit_events.AuditRecord(what="not for this topic")
    records = [
        Bad("random bytes, no envelope", topic, noise, [], True),
        Bad("random bytes as the topic's type", topic, noise, headers, not parses(cls, noise)),
        Bad("truncated valid record", topic, truncated, headers, not parses(cls, truncated)),
        Bad("unknown ce_type", topic, value, replaced("ce_type", b"vt.fuzz.v1.NoSuchEvent"), True),
        Bad("header not UTF-8", topic, value, replaced("ce_source", b"\xff\xfe\xfd"), True),
        Bad("ce_time not a time", topic, value, replaced("ce_time", b"yesterday"), True),
        Bad("huge field", topic, with_huge_field(sample).SerializeToString(), headers, True),
        Bad("type foreign to the topic", topic, foreign.SerializeToString(),
            envelope_for(foreign, source="fuzz").headers(), False),
    ]
    for kind, drawn_records in (("drawn from the topic's type", examples(messages(cls.DESCRIPTOR), EXAMPLES)),
                                ("mutant of a valid record", examples(mutations(sample), EXAMPLES))):
        for drawn in drawn_records:
            records.append(Bad(kind, topic, drawn.SerializeToString(),
                               envelope_for(drawn, source="fuzz", tenant=TENANT).headers(), False))
    for record in records:
        record.fuzz_id = str(uuid.uuid4())
        record.headers = [*record.headers, ("fuzz_id", record.fuzz_id.encode())]
    return records


class DeadLetters:
    """Reads the dead-letter topic from the start; headers decoded leniently, since the fuzz puts
    headers there that are not UTF-8 (vttest.radar.Watcher would stop at the first)."""

    def __init__(self, bootstrap: str):
        self.consumer = AIOKafkaConsumer(topics.DEAD_LETTERS, bootstrap_servers=bootstrap, group_id=f"fuzz-{uuid.uuid4()}",
                                         auto_offset_reset="earliest", enable_auto_commit=False,
                                         session_timeout_ms=6000, heartbeat_interval_ms=2000)
        self.seen: list[dict[str, str]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> "DeadLetters":
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        async for record in self.consumer:
            self.seen.append({k: (v or b"").decode(errors="replace") for k, v in record.headers or ()})

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()

    def matching(self, predicate: Any) -> list[dict[str, str]]:
        return [h for h in list(self.seen) if predicate(h)]


def consumer_service(dl_consumer: str, notifier_group: str) -> str:
    if dl_consumer.startswith("radar."):
        return "radar"
    return {notifier_group: "notifier", BRP_GROUP: "verwijsindex"}.get(dl_consumer, dl_consumer)


def test_every_consumed_topic_is_fuzzed() -> None:
    notifier_topics = {t for t in source_topics() if not t.startswith("vt.") or ".national." in t or f".{TENANT}." in t}
    assert notifier_topics == {t for t, (_, who) in TOPICS.items() if "notifier" in who}


async def test_fuzz_consumers(stack: Any) -> None:
    dead = await DeadLetters(stack.kafka).start()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all", max_request_size=4 * HUGE)
    await producer.start()
    records = [bad for topic in TOPICS for bad in bad_records(topic, stack.keys)]
    refused: list[str] = []
    try:
        for bad in records:
            try:
                await producer.send_and_wait(bad.topic, bad.value, key=uuid.uuid4().hex.encode(), headers=bad.headers)
            except Exception as exc:  # the broker's limit: report it, the rest still counts
                refused.append(f"{bad.kind} on {bad.topic}: {type(exc).__name__}")
        sent = [b for b in records if not any(r.startswith(f"{b.kind} on {b.topic}:") for r in refused)]

        # Valid records after the garbage: every consumer is still processing.
        publisher = Publisher(producer, Signers(stack.keys.root).headers)
        melding_id = new_event_id()
        melding = melding_received(stack.keys, TENANT, [random_bsn()], event_id=melding_id)
        await publish_melding(publisher, melding, melding_id)
        [facts_id] = await publish_facts(stack.kafka, [build_facts(stack.keys, random_bsn(), "Kerkstraat 2, 3511 AB Utrecht",
                                                                   "0344")], stack.keys)

        def dead_lettered(bad: Bad) -> set[str]:
            return {consumer_service(h.get("dl_consumer", ""), stack.notifier_group)
                    for h in dead.matching(lambda h: h.get("fuzz_id") == bad.fuzz_id and h.get("dl_reason"))}

        must = [b for b in sent if b.must_dead_letter]

        def consumers(bad: Bad) -> set[str]:
            """Who must dead-letter it: radar passes over its own event types on the assessments topic unread
            (radar.adapters.proto.PASSED_OVER_TYPES); the notifier, which acts on them, still refuses them."""
            who = TOPICS[bad.topic][1]
            if bad.topic == topics.NATIONAL_ASSESSMENTS and dict(bad.headers).get("ce_type", b"").decode(
                    errors="replace") in PASSED_OVER_TYPES:
                return who - {"radar"}
            return who

        async def all_dead_lettered() -> bool:
            for name, process in stack.processes.items():  # a consumer that crashed fails at once, with its log
                if process.proc is not None and process.proc.poll() is not None:
                    pytest.fail(f"{name} exited during the Kafka fuzz:\n{process.log_text()[-3000:]}")
            return all(consumers(b) <= dead_lettered(b) for b in must)

        try:
            await eventually(all_dead_lettered, "the dead-letter copies", retry_on=(Exception,))
        finally:
            missing = [f"{b.kind} on {b.topic}: {sorted(consumers(b) - dead_lettered(b))}" for b in must
                       if not consumers(b) <= dead_lettered(b)]
            assert not missing, "bad records without a dead-letter copy from every consumer:\n" + "\n".join(missing)

        radar, notifier = stack.processes["vt.radar.v1"], stack.processes["vt.notifier.v1"]
        async with client_channel(radar.address, stack.keys, TENANT) as channel:
            assessment = channel.unary_unary("/vt.radar.v1.RadarService/GetAssessment",
                                             request_serializer=rpb.GetAssessmentRequest.SerializeToString,
                                             response_deserializer=rpb.GetAssessmentResponse.FromString)
            await eventually(lambda: assessment(rpb.GetAssessmentRequest(case_id=melding.contact_id), timeout=5),
                             "radar's assessment of the valid melding", retry_on=(Exception,))
        async with client_channel(notifier.address, stack.keys, TENANT) as channel:
            deliveries = channel.unary_unary("/vt.notifier.v1.NotifierService/ListDeliveries",
                                             request_serializer=npb.ListDeliveriesRequest.SerializeToString,
                                             response_deserializer=npb.ListDeliveriesResponse.FromString)

            async def delivered() -> bool:
                reply = await deliveries(npb.ListDeliveriesRequest(case_id=melding.contact_id), timeout=5)
                return bool(reply.deliveries)

            await eventually(delivered, "notifier's delivery for the valid melding", retry_on=(Exception,))
        vi = stack.processes["vt.verwijsindex.v1"]

        async def facts_applied() -> bool:
            return facts_id in vi.log_text() and '"household facts"' in vi.log_text()

        await eventually(facts_applied, "the verwijsindex applying valid BRP facts", retry_on=(Exception,))
        for name, process in stack.processes.items():
            assert process.proc is not None and process.proc.poll() is None, f"{name} died:\n{process.log_text()[-3000:]}"
            await wait_healthy(process.address, timeout=10, keys=stack.keys)

        # radar parks a record whose handler raised as "unexpected ...": kept serving, but a bug all the same.
        unexpected = [f"{h.get('dl_consumer')}: {h.get('dl_reason', '')[:200]}"
                      for h in dead.matching(lambda h: bool(h.get("fuzz_id"))
                                             and h.get("dl_reason", "").startswith("unexpected"))]
        outcome = collections.Counter("dead-lettered" if dead_lettered(b) else "handled or ignored" for b in sent)
        print(f"\nKafka fuzz: {len(records)} records on {len(TOPICS)} topics ({len(must)} unusable, all dead-lettered by "
              f"every consumer), {dict(outcome)}; refused by the broker: {refused or 'none'}; "
              f"handler exceptions parked as 'unexpected': {len(unexpected)}")
        assert not unexpected, "records that made a handler raise:\n" + "\n".join(sorted(set(unexpected))[:15])
    finally:
        await producer.stop()
        await dead.stop()
