"""Records that cross an organisation boundary act only when their writer signed them (vtkit.signing): on a
region's intake topic a melding without a signature, signed by another region, or changed after signing is
dead-lettered by radar and by the notifier with the reason, and opens no case; an RvdK signal is signed by the RvdK.
The correctly signed control record after them shows they were all handled."""

from __future__ import annotations

from collections.abc import Callable

from devstack.processes import ServiceProcess
from simulators.rvdk import random_bsn
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import encode, envelope_for, new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vtkit.signing import RecordSigner, Signers
from vttest.notifier import Notifier
from vttest.radar import Watcher, melding_received, publish_melding

REGION, OTHER = "zeeland", "flevoland"


async def test_unsigned_foreign_signed_and_altered_records_are_dead_lettered_not_acted_on(
        kafka: str, keys: KeyStore, publisher: Publisher, radar: ServiceProcess,
        make_notifier: Callable[..., Notifier]) -> None:
    notifier = make_notifier({})
    await notifier.start()
    topic = topics.intake(REGION)
    watcher = await Watcher(kafka, topics.DEAD_LETTERS, topics.NATIONAL_ASSESSMENTS).start()
    producer = publisher.producer
    try:
        forged: dict[str, str] = {}  # event id -> the reason it must be refused for

        async def send(reason: str, sign: Callable[[bytes, bytes, list[tuple[str, bytes]]], list[tuple[str, bytes]]],
                       alter: bool = False) -> str:
            event_id = new_event_id()
            msg = melding_received(keys, REGION, [random_bsn()], event_id=event_id, acute=True)
            value, headers = encode(msg, envelope_for(msg, source=f"intake/{REGION}", tenant=REGION, event_id=event_id))
            headers = sign(msg.contact_id.encode(), value, headers)
            if alter:  # a byte of the signed value changed on the way (acute flag, person, anything)
                value = value[:-1] + bytes([value[-1] ^ 1])
            await producer.send_and_wait(topic, value, key=msg.contact_id.encode(), headers=headers)
            forged[event_id] = reason
            return msg.contact_id

        cases = [await send("unsigned", lambda k, v, h: h),
                 await send("wrong_writer", lambda k, v, h: RecordSigner.load(keys.root, OTHER).headers(topic, k, v, h)),
                 await send("bad_signature", lambda k, v, h: Signers(keys.root).headers(topic, k, v, h), alter=True)]
        control_id = new_event_id()
        control = melding_received(keys, REGION, [random_bsn()], event_id=control_id)
        await publish_melding(publisher, control, control_id)  # signed by the region, as its intake does

        await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue)
                               and s.message.case_id == control.contact_id, what="the signed melding's assessment")
        dead = await watcher.wait_for(lambda s: s.topic == topics.DEAD_LETTERS and s.headers.get("ce_id") in forged,
                                      count=6, what="each forged record dead-lettered by radar and by the notifier")
    finally:
        await watcher.stop()
    by_consumer: dict[str, dict[str, str]] = {}
    for d in dead:
        by_consumer.setdefault(d.headers["dl_consumer"], {})[d.headers["ce_id"]] = d.headers["dl_reason"]
    assert len(by_consumer) == 2  # radar's intake agent and the notifier's group
    for reasons in by_consumer.values():
        assert {event_id: reason.split(":")[1].strip() for event_id, reason in reasons.items()} == forged
    opened = {s.message.case_id for s in watcher.matching(lambda s: isinstance(s.message, events_pb2.AssessmentDue))}
    assert not opened & set(cases)
