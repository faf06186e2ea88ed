"""The real radar process against the embedded broker: cross-region match, the collected
assessment input with RvdK information, deduplication of redelivered input and dead letters.

Every test uses its own BSNs, case ids and consumer groups, and its own radar app id, so tests
sharing the session broker do not interfere (a fresh radar reads all topics from the start,
but assertions filter on this test's case ids and pseudonym-free markers)."""

from __future__ import annotations

import datetime as dt
import pathlib
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from simulators.rvdk import publish_rvdk_signal, random_bsn
from vt.radar.v1 import events_pb2
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vtkit import calendar, topics
from vtkit.envelope import new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vtkit.signing import Signers
from vttest import ServiceProcess
from vttest.radar import Seen, Watcher, melding_received, publish_melding, radar_process, start_radar

REGION_A = "amsterdam-amstelland"
REGION_B = "utrecht"


@pytest.fixture()
async def radar(kafka: str, keys: KeyStore, data_dir: pathlib.Path, tmp_path: pathlib.Path,
                publisher: Publisher) -> AsyncIterator[ServiceProcess]:
    process = radar_process(kafka, keys, data_dir, tmp_path / "radar.log", app_id=f"vt-radar-{uuid.uuid4().hex[:8]}")
    await start_radar(process)
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]


@pytest.fixture()
async def watcher(kafka: str, publisher: Publisher) -> AsyncIterator[Watcher]:
    names = [topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_RADAR_PERSON, topics.DEAD_LETTERS,
             topics.register(REGION_A), topics.register(REGION_B)]
    w = await Watcher(kafka, *names).start()
    try:
        yield w
    finally:
        await w.stop()


def is_match(topic: str, case_id: str):
    def check(s: Seen) -> bool:
        return (s.topic == topic and isinstance(s.message, events_pb2.RegisterMatch)
                and s.message.own_case_id == case_id)
    return check


def input_for(case_id: str, rvdk_count: int | None = None):
    def check(s: Seen) -> bool:
        return (isinstance(s.message, events_pb2.AssessmentInput) and s.message.case_id == case_id
                and (rvdk_count is None or len(s.message.rvdk) == rvdk_count))
    return check


async def test_cross_region_match_and_assessment_input_with_rvdk(
        kafka: str, keys: KeyStore, radar: ServiceProcess, publisher: Publisher, watcher: Watcher) -> None:
    bsn = random_bsn()
    signal_1 = await publish_rvdk_signal(kafka, keys, bsn, "INVESTIGATION_OPEN", "Utrecht",
                                         observed_at=dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC))
    id_b = new_event_id()
    melding_b = melding_received(keys, REGION_B, [bsn], event_id=id_b,
                                 received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    await publish_melding(publisher, melding_b, id_b)
    # B's own input: the RvdK signal published before the melding is part of it.
    await watcher.wait_for(input_for(melding_b.contact_id, rvdk_count=1), what="AssessmentInput for B")

    id_a = new_event_id()
    melding_a = melding_received(keys, REGION_A, [bsn, random_bsn()], event_id=id_a, acute=True)
    await publish_melding(publisher, melding_a, id_a)

    # The match reaches both regions, each with its own reference and no case content of the other.
    [to_a] = await watcher.wait_for(is_match(topics.register(REGION_A), melding_a.contact_id), what="match for A")
    [to_b] = await watcher.wait_for(is_match(topics.register(REGION_B), melding_b.contact_id), what="match for B")
    assert to_a.message.addressed_to == REGION_A and to_b.message.addressed_to == REGION_B
    assert to_a.message.match_id == to_b.message.match_id
    assert to_a.message.own_person_id == melding_a.persons[0].person_id
    assert to_a.message.other.tenant_id == REGION_B and list(to_a.message.other.case_ids) == []
    assert to_b.message.other.tenant_id == REGION_A and list(to_b.message.other.case_ids) == []
    assert list(to_b.message.own.case_ids) == [melding_b.contact_id]
    assert to_a.message.other.since.ToDatetime(dt.UTC) == melding_b.received_at.ToDatetime(dt.UTC)
    assert to_a.headers["ce_tenant"] == REGION_A and to_a.headers["ce_source"] == "radar"

    # A's assessment input lists B's involvement (tenant + since, no case ids) and the RvdK signal.
    [inp] = await watcher.wait_for(lambda s: input_for(melding_a.contact_id)(s)
                                   and s.message.person_id == melding_a.persons[0].person_id, what="input for A")
    assert [o.tenant_id for o in inp.message.other_organisations] == [REGION_B]
    assert list(inp.message.other_organisations[0].case_ids) == []
    assert [r.signal_id for r in inp.message.rvdk] == [signal_1]
    assert inp.message.rvdk[0].kind == rvdk_events.RVDK_SIGNAL_KIND_INVESTIGATION_OPEN
    # The second person of A's melding is unknown elsewhere: an input without other organisations.
    [other_person] = await watcher.wait_for(lambda s: input_for(melding_a.contact_id)(s)
                                            and s.message.person_id == melding_a.persons[1].person_id)
    assert list(other_person.message.other_organisations) == [] and list(other_person.message.rvdk) == []
    # B's open assessment learns about A as well.
    await watcher.wait_for(lambda s: input_for(melding_b.contact_id)(s) and len(s.message.other_organisations) == 1,
                           what="updated input for B")

    # Deadlines: acute -> the same (Amsterdam) day.
    [due_a] = await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue)
                                     and s.message.case_id == melding_a.contact_id, what="AssessmentDue for A")
    today = calendar.local_date(melding_a.received_at.ToDatetime(dt.UTC))
    assert due_a.message.acute and due_a.message.melder.ciphertext == melding_a.melder.ciphertext
    d = due_a.message.due_date
    assert dt.date(d.year, d.month, d.day) == today
    assert due_a.message.due_at.ToDatetime(dt.UTC) == calendar.end_of_day(today)

    # A redelivered melding (same ce_id) changes nothing (its outputs go out again, same ids); an RvdK signal after
    # it joins both open assessments.
    await publish_melding(publisher, melding_a, id_a)
    await watcher.wait_for(lambda s: s.topic == topics.NATIONAL_RADAR_PERSON and s.envelope is not None
                           and s.key == to_a.key and s.message.WhichOneof("signal") == "melding"
                           and s.message.melding.case_id == melding_a.contact_id, count=2,
                           what="redelivered person signal")
    signal_2 = await publish_rvdk_signal(kafka, keys, bsn, "CHILD_PROTECTION_MEASURE", "Amsterdam")
    [updated] = await watcher.wait_for(lambda s: input_for(melding_a.contact_id, rvdk_count=2)(s)
                                       and s.message.person_id == melding_a.persons[0].person_id,
                                       what="updated input for A")
    assert {r.signal_id for r in updated.message.rvdk} == {signal_1, signal_2}
    await watcher.wait_for(input_for(melding_b.contact_id, rvdk_count=2), what="updated input for B")
    # The redelivered melding emitted its match again under the same event id (a broker loss may have taken the
    # first): one match per region for a consumer that dedupes on the event id.
    for region, melding in ((REGION_A, melding_a), (REGION_B, melding_b)):
        copies = watcher.matching(is_match(topics.register(region), melding.contact_id))
        assert len({c.envelope.id for c in copies if c.envelope}) == 1 and len({c.message.match_id for c in copies}) == 1


async def test_undecodable_record_is_dead_lettered_and_processing_continues(
        kafka: str, keys: KeyStore, radar: ServiceProcess, publisher: Publisher, watcher: Watcher) -> None:
    marker = f"garbage-{uuid.uuid4()}"
    # Signed by the region, as its intake signs (vtkit.signing): it is the content that cannot be read.
    garbage, topic = b"\x08\xff\xff not protobuf", topics.intake(REGION_A)
    await publisher.producer.send_and_wait(topic, garbage, key=marker.encode(),
                                           headers=Signers(keys.root).headers(topic, marker.encode(), garbage, []))
    [dead] = await watcher.wait_for(lambda s: s.topic == topics.DEAD_LETTERS and s.key == marker.encode(),
                                    what="dead letter")
    assert dead.headers["dl_topic"] == topics.intake(REGION_A)
    assert "missing header" in dead.headers["dl_reason"]

    # A record sealed to the wrong recipient cannot be opened: dead-lettered with the reason.
    event_id = new_event_id()
    bad = melding_received(keys, REGION_A, [random_bsn()], event_id=event_id)
    bad.persons[0].sealed_identity.recipient = "verwijsindex"
    await publish_melding(publisher, bad, event_id)
    [dead] = await watcher.wait_for(lambda s: s.topic == topics.DEAD_LETTERS and s.key == bad.contact_id.encode(),
                                    what="dead letter for unopenable identity")
    assert "cannot be opened" in dead.headers["dl_reason"]

    event_id = new_event_id()
    good = melding_received(keys, REGION_A, [random_bsn()], event_id=event_id)
    await publish_melding(publisher, good, event_id)
    await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue)
                           and s.message.case_id == good.contact_id, what="AssessmentDue after dead letters")
    assert not watcher.matching(lambda s: isinstance(s.message, events_pb2.AssessmentDue)
                                and s.message.case_id == bad.contact_id)


async def test_radar_declares_its_changelog_topics_compacted_before_its_worker_joins(
        kafka: str, radar: ServiceProcess) -> None:
    """faust's own declaration of a table's changelog ran beside the group join; a join that came first assigned no
    changelog partitions and the worker crashed at its first table write (PartitionsMismatch). Radar creates them
    with the other topics before the worker starts, and faust declares nothing (its declaration is off), so the
    changelogs exist only because radar made them."""
    app_id = radar.env["RADAR_APP_ID"]
    names = [f"{app_id}-{table}-changelog" for table in ("persons", "cases", "open_cases", "recent_cases")]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
        [configs] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    finally:
        await admin.close()
    assert {t["topic"]: len(t["partitions"]) for t in described} == dict.fromkeys(names, 4)
    # a resource: (error code, message, type, name, entries); an entry: (name, value, ...)
    policies = {r[3]: {e[0]: e[1] for e in r[4]}.get("cleanup.policy") for r in configs.resources}
    assert policies == dict.fromkeys(names, "compact")
    assert "Ignoring missing topic" not in radar.log_text()  # what faust's assignor logged at the join that came first
