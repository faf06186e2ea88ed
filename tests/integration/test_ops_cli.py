"""Every vt-ops command against the real broker (and a real consumer loop, vtkit.kafka.consume): dead letters with
their provenance, a record with a non-UTF-8 header, re-drive of the original to the failed consumer only, handled
marks, tail from the end, the story of a case, help on every command, progress in a log file."""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
import uuid
from typing import Any

import pytest
from devstack.processes import ROOT
from ops.cli import main as vt_ops
from ops.cli import parser, read_all
from vt.audit.v1 import events_pb2 as audit_events
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import Event, envelope_for, header_map
from vtkit.kafka import KafkaSettings, PermanentError, Publisher, consume, ensure_topics, make_producer
from vttest import eventually

TENANT = "zeeland"


def row_of(listing: str, ident: str) -> str:
    """The table line of dead letter `ident` (its first cell; "1:0" is also part of a time)."""
    return next(x for x in listing.splitlines() if x.startswith(f"│ {ident} "))


def run_ops(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    vt_ops(list(argv))
    return capsys.readouterr().out


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    sub = next(a for a in parser()._actions if a.dest == "command")  # noqa: SLF001
    commands = sorted(sub.choices)  # type: ignore[union-attr]
    assert {"topics", "lag", "tail", "deadletters", "redrive", "handled", "case", "replay-outbox", "recover",
            "quarantine"} <= set(commands)
    for action in sub._choices_actions:  # noqa: SLF001 (the help line of each command in `vt-ops --help`)
        assert action.help, action.dest
    for name in commands:
        with pytest.raises(SystemExit) as done:
            vt_ops([name, "--help"])
        assert done.value.code == 0
        assert f"usage: vt-ops {name}" in capsys.readouterr().out


async def _consumer_loop(kafka: str, topic: str, group: str, handled: list[str], fail: set[str],
                         stop: asyncio.Event) -> None:
    settings = KafkaSettings(bootstrap_servers=kafka)
    producer = make_producer(settings)
    await producer.start()

    async def handler(event: Event, record: Any) -> None:
        if event.envelope.id in fail:
            raise PermanentError("receiver refused")
        handled.append(event.envelope.id)

    try:
        await consume(settings, [topic], group, handler, producer, stop)
    finally:
        await producer.stop()


async def test_dead_letter_provenance_redrive_to_the_failed_consumer_only_and_handled(
        kafka: str, publisher: Publisher, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two consumer groups read one topic; one fails a record. Its dead letter names consumer, group, service,
    topic/partition/offset, reason and time; re-drive re-reads the original and only the failed group handles it
    again; the handled mark shows in the listing."""
    topic = topics.register(TENANT)
    marker = uuid.uuid4().hex[:8]
    failing, other = f"vt-test-failing-{marker}", f"vt-test-other-{marker}"
    entry = events_pb2.RegisterEntry(tenant_id=TENANT, case_id=f"c-{marker}")
    envelope = envelope_for(entry, source="test", tenant=TENANT)
    seen_failing: list[str] = []
    seen_other: list[str] = []
    fail = {envelope.id}
    stop = asyncio.Event()
    loops = [asyncio.create_task(_consumer_loop(kafka, topic, failing, seen_failing, fail, stop)),
             asyncio.create_task(_consumer_loop(kafka, topic, other, seen_other, set(), stop))]
    data = tmp_path / "data"
    try:
        await publisher.publish(topic, f"c-{marker}", entry, envelope)
        await eventually(lambda: envelope.id in seen_other, timeout=60)

        async def dead() -> list[Any]:
            return [r for r in await read_all(kafka, topics.DEAD_LETTERS)
                    if header_map(r.headers, strict=False).get("ce_id") == envelope.id]

        [letter] = await eventually(dead, timeout=60)
        headers = header_map(letter.headers, strict=False)
        original = [r for r in await read_all(kafka, topic) if header_map(r.headers, strict=False).get("ce_id") == envelope.id][0]
        assert headers["dl_consumer"] == failing and headers["dl_group"] == failing
        assert headers["dl_topic"] == topic and headers["dl_partition"] == str(original.partition)
        assert headers["dl_offset"] == str(original.offset) and "receiver refused" in headers["dl_reason"]
        assert headers["dl_time"].startswith("20") and headers["dl_service"]
        ident = f"{letter.partition}:{letter.offset}"

        listing = await asyncio.to_thread(run_ops, capsys, "--kafka", kafka, "--data-dir", str(data), "deadletters")
        assert failing in row_of(listing, ident) and f"{topic}/{original.partition}@{original.offset}" in listing
        assert "receiver refused" in listing

        fail.clear()  # the cause is fixed
        out = await asyncio.to_thread(run_ops, capsys, "--kafka", kafka, "--data-dir", str(data), "redrive", ident)
        assert f"{ident} -> {topic}/{original.partition}@{original.offset} for {failing}" in out
        await eventually(lambda: envelope.id in seen_failing, timeout=60)
        # The other group got the re-driven record too (same topic) and skipped it: still one handling. Its position
        # passing the re-driven record's offset is the condition, not a sleep.
        redriven = [r for r in await read_all(kafka, topic)
                    if header_map(r.headers, strict=False).get("vt_redrive_for") == failing]
        assert len(redriven) == 1 and header_map(redriven[0].headers, strict=False)["ce_id"] == envelope.id
        assert redriven[0].value == original.value and redriven[0].partition == original.partition
        await eventually(lambda: _committed_past(kafka, other, redriven[0]), timeout=60)
        assert seen_other.count(envelope.id) == 1 and seen_failing.count(envelope.id) == 1

        out = await asyncio.to_thread(run_ops, capsys, "--kafka", kafka, "--data-dir", str(data), "handled", ident)
        assert f"{ident}: handled at" in out
        listing = await asyncio.to_thread(run_ops, capsys, "--kafka", kafka, "--data-dir", str(data), "deadletters")
        line = row_of(listing, ident)
        assert "handled" in line and "re-driven" in line
        still_open = await asyncio.to_thread(run_ops, capsys, "--kafka", kafka, "--data-dir", str(data), "deadletters", "--open")
        assert not [x for x in still_open.splitlines() if x.startswith(f"│ {ident} ")]
    finally:
        stop.set()
        await asyncio.gather(*loops)


async def _committed_past(kafka: str, group: str, record: Any) -> bool:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        committed = await consumer.committed(TopicPartition(record.topic, record.partition))
        return committed is not None and committed > record.offset
    finally:
        await consumer.stop()


async def test_a_record_with_a_bad_header_or_body_is_a_row_not_a_crash(kafka: str, tmp_path: pathlib.Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    producer = make_producer(KafkaSettings(bootstrap_servers=kafka))
    await producer.start()
    try:
        bad = await producer.send_and_wait(topics.DEAD_LETTERS, b"\xff\xfe not protobuf", key=b"k",
                                           headers=[("dl_reason", b"\xff\xfe\xfd"), ("dl_consumer", b"vt-test"),
                                                    ("ce_id", b"\xc3\x28")])
        forged = await producer.send_and_wait(topics.DEAD_LETTERS, b"\x00", key=b"k",
                                              headers=[("dl_reason", b"made up"), ("dl_topic", topics.intake(TENANT).encode()),
                                                       ("dl_partition", b"0"), ("dl_offset", b"999999999"),
                                                       ("dl_consumer", b"vt-radar"), ("ce_id", uuid.uuid4().hex.encode())])
    finally:
        await producer.stop()
    listing = await asyncio.to_thread(run_ops, capsys, "--kafka", kafka, "--data-dir", str(tmp_path), "deadletters")
    line = row_of(listing, f"{bad.partition}:{bad.offset}")
    assert "not UTF-8" in line and "Traceback" not in listing
    # A dead letter naming an original the broker does not hold re-drives nothing (never its own copy).
    out = await asyncio.to_thread(run_ops, capsys, "--kafka", kafka, "--data-dir", str(tmp_path), "redrive",
                                  f"{forged.partition}:{forged.offset}", f"{bad.partition}:{bad.offset}")
    assert f"{forged.partition}:{forged.offset}: not re-driven: the original" in out
    assert f"{bad.partition}:{bad.offset}: not re-driven: no original" in out


async def test_tail_reads_from_the_end(kafka: str, publisher: Publisher, capsys: pytest.CaptureFixture[str]) -> None:
    topic = topics.register("drenthe")
    ids = []
    for i in range(12):
        entry = events_pb2.RegisterEntry(tenant_id="drenthe", case_id=f"c-{i}")
        envelope = envelope_for(entry, source="test", tenant="drenthe")
        await publisher.publish(topic, f"k-{i}", entry, envelope)
        ids.append(envelope.id)
    out = await asyncio.to_thread(run_ops, capsys, "--kafka", kafka, "tail", topic, "-n", "3")
    assert ids[-1] in out and ids[0] not in out
    assert sum(1 for line in out.splitlines() if "RegisterEntry" in line) == 3


async def test_the_story_of_a_case_in_time_order_with_no_personal_data(kafka: str, publisher: Publisher,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    case = f"case-{uuid.uuid4().hex[:8]}"
    reference = f"VT99-20261206-{uuid.uuid4().hex[:8].upper()}"
    received = intake_events.MeldingReceived(tenant_id=TENANT, contact_id=case, reference=reference, acute=True)
    await publisher.publish(topics.intake(TENANT), case, received, envelope_for(received, source="test", tenant=TENANT))
    due = events_pb2.AssessmentDue(tenant_id=TENANT, case_id=case)
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, case, due, envelope_for(due, source="test", tenant=TENANT))
    other = events_pb2.AssessmentDue(tenant_id=TENANT, case_id=f"other-{case}")
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, f"other-{case}", other,
                            envelope_for(other, source="test", tenant=TENANT))
    # A service's access records of one forwarding pass share a Kafka record: only the case's is in its story.
    copies = audit_events.AuditRecords(records=[
        audit_events.AuditRecord(seq=7, action="read", what="read contact", when="2099-01-01T00:00:00+00:00",
                                 subject={"contact_id": case}, service="intake/utrecht", role="region", outcome="success"),
        audit_events.AuditRecord(seq=8, action="export", what="export elsewhere", when="2099-01-01T00:00:01+00:00",
                                 subject={"contact_id": f"other-{case}"}, service="intake/utrecht", outcome="success")])
    await publisher.publish(topics.NATIONAL_AUDIT, "intake/utrecht", copies, envelope_for(copies, source="audit/test"))
    out = await asyncio.to_thread(run_ops, capsys, "--kafka", kafka, "case", reference)
    lines = [x for x in out.splitlines() if "MeldingReceived" in x or "AssessmentDue" in x or "audit" in x]
    assert "MeldingReceived" in lines[0] and "AssessmentDue" in lines[1] and "audit read" in lines[2], out
    assert len(lines) == 3 and "acute" in lines[0] and f"other-{case}" not in out and "export" not in out


def test_topics_and_lag_leave_no_unclosed_client_and_progress_is_plain_in_a_log(kafka: str, tmp_path: pathlib.Path) -> None:
    log = tmp_path / "ops.log"
    env = {**os.environ, "PYTHONWARNINGS": "always", "COLUMNS": "200"}
    # The broker is shared: when this test runs first, no other test has created the topics yet.
    asyncio.run(ensure_topics(KafkaSettings(bootstrap_servers=kafka)))
    for command in (["topics"], ["lag"], ["deadletters"]):
        with open(log, "wb") as sink:
            done = subprocess.run([sys.executable, "-m", "ops.cli", "--kafka", kafka,
                                   "--data-dir", str(tmp_path), *command], cwd=ROOT, env=env, stdout=sink,
                                  stderr=subprocess.STDOUT, timeout=120)
        text = log.read_text()
        assert done.returncode == 0, text[-3000:]
        assert "Unclosed" not in text and "Traceback" not in text, text[-3000:]
        assert "\x1b[" not in text  # no cursor movement or colour codes in a file
    assert "reading vt.national.deadletter.v1:" in text and "records (100%)" in text
