"""The notifier alone: its CPU per melding, without the rest of the suite's load on the machine.

    make bench BENCH_K=notifier      (NOTIFIER_BENCH_N=2000 meldingen by default)

Per melding the notifier reads what the suite gives it (docs/measurements.md, "Records per melding"): intake's signed
MeldingReceived, radar's AssessmentDue, AssessmentInput and RegisterEntry (a type it passes over), all built and
signed before the clock starts and spread over 4 regions. Each melding makes two deliveries to its region's fake case
system (a small real gRPC server in this process): the melder callback and the inbox item of the first assessment
input. Measured from the first publish until every one of them is announced DeliveryDelivered on the deliveries topic
(so the relay's publishing counts): the notifier's CPU per melding (/proc) and the deliveries per second. The suite's
`make bench` cannot see a change of a few percent of one service (docs/measurements.md, "Records sent as batches");
this can, when run by turns (`make bench-turns ... TURNS_SET="BENCH_K=notifier"`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pathlib
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from loadgen.cpu import cpu_seconds
from loadgen.turns import write_single
from simulators.regional_system import FakeRegionalSystem
from simulators.rvdk import random_bsn
from vt.common.v1 import common_pb2
from vt.notifier.v1 import events_pb2 as delivery_events
from vt.radar.v1 import events_pb2 as radar_events
from vtkit import topics
from vtkit.calendar import due_after_working_days
from vtkit.envelope import encode, envelope_for, header_value, new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vtkit.signing import Signers
from vttest import assigned, send_all
from vttest.notifier import Notifier, assessment_due
from vttest.radar import melding_received

N = int(os.environ.get("NOTIFIER_BENCH_N", "2000"))
TENANTS = ("amsterdam-amstelland", "rotterdam-rijnmond", "twente", "brabant-zuidoost")  # make bench's regions
KINDS = {delivery_events.DELIVERY_KIND_MELDER_CALLBACK, delivery_events.DELIVERY_KIND_INBOX_ASSESSMENT_INPUT}
TIMEOUT = 600.0

pytestmark = pytest.mark.bench

Record = tuple[str, str, bytes, list[tuple[str, bytes]]]  # topic, key, value, headers


def records_of_one_melding(keys: KeyStore, signers: Signers, tenant: str) -> tuple[str, list[Record]]:
    event_id = new_event_id()
    melding = melding_received(keys, tenant, [random_bsn()], event_id=event_id)
    case_id = melding.contact_id
    value, headers = encode(melding, envelope_for(melding, source=f"intake/{tenant}", tenant=tenant, event_id=event_id))
    out: list[Record] = [(topics.intake(tenant), case_id, value,
                          signers.headers(topics.intake(tenant), case_id.encode(), value, headers))]
    person_id = melding.persons[0].person_id
    assessment_input = radar_events.AssessmentInput(tenant_id=tenant, case_id=case_id, person_id=person_id)
    assessment_input.collected_at.GetCurrentTime()
    entry = radar_events.RegisterEntry(tenant_id=tenant, case_id=case_id)
    due = assessment_due(tenant, case_id, with_due_date=False)  # received now, due in 5 working days: none overdue
    due.received_at.CopyFrom(melding.received_at)
    day = due_after_working_days(melding.received_at.ToDatetime(tzinfo=dt.UTC), 5)
    due.due_date.CopyFrom(common_pb2.Date(year=day.year, month=day.month, day=day.day))
    for topic, message in ((topics.NATIONAL_ASSESSMENTS, due),
                           (topics.NATIONAL_ASSESSMENTS, assessment_input), (topics.register(tenant), entry)):
        value, headers = encode(message, envelope_for(message, source=f"radar/{tenant}", tenant=tenant))
        out.append((topic, case_id, value, headers))
    return case_id, out


async def test_notifier_cpu_per_melding(kafka: str, keys: KeyStore, publisher: Publisher, data_dir: pathlib.Path,
                                        tmp_path: pathlib.Path) -> None:
    load_before = os.getloadavg()[0]
    signers = Signers(keys.root)
    cases: set[str] = set()
    prepared: list[Record] = []
    for i in range(N):
        case_id, records = records_of_one_melding(keys, signers, TENANTS[i % len(TENANTS)])
        cases.add(case_id)
        prepared += records

    fake = FakeRegionalSystem(record_file=tmp_path / "regional.jsonl", keys=keys)
    await fake.start()
    notifier = Notifier(kafka, keys, data_dir, tmp_path / "logs", dict.fromkeys(TENANTS, fake.address))
    delivered = AIOKafkaConsumer(topics.NATIONAL_DELIVERIES, bootstrap_servers=kafka, group_id=f"bench-{uuid.uuid4()}",
                                 auto_offset_reset="latest", enable_auto_commit=False)
    try:
        process = await notifier.start()  # its group starts at the topics' ends: nothing of other tests
        await delivered.start()
        await assigned(delivered, at_end=True)  # "latest" fixed before anything is published
        await asyncio.sleep(2.0)  # the notifier idle and joined
        assert process.proc is not None
        cpu_before = cpu_seconds(process.proc.pid)
        t0 = time.perf_counter()
        await send_all(publisher.producer, prepared)
        waiting = {(case_id, kind) for case_id in cases for kind in KINDS}
        deadline = time.monotonic() + TIMEOUT
        while waiting:
            assert time.monotonic() < deadline, f"{len(waiting)} deliveries not delivered within {TIMEOUT} s"
            for records in (await delivered.getmany(timeout_ms=200, max_records=5000)).values():
                for record in records:
                    if header_value(record.headers, "ce_type") == delivery_events.DeliveryDelivered.DESCRIPTOR.full_name:
                        done = delivery_events.DeliveryDelivered.FromString(record.value)
                        waiting.discard((done.case_id, done.kind))
        seconds = time.perf_counter() - t0
        cpu_ms = 1000 * (cpu_seconds(process.proc.pid) - cpu_before) / N
    finally:
        await delivered.stop()
        code = notifier.stop()
        await fake.stop()
    assert code == 0
    print(f"\nnotifier bench: {N} meldingen of {len(TENANTS)} regions, {len(prepared) // N} records and "
          f"{len(KINDS)} deliveries each")
    print(f"  every delivery announced after {seconds:.2f} s: {N * len(KINDS) / seconds:.0f} deliveries/s")
    print(f"  notifier CPU per melding {cpu_ms:.2f} ms (user + system, /proc)")
    assert cpu_ms > 0
    write_single("notifier", {"notifier": cpu_ms, "deliveries_per_s": N * len(KINDS) / seconds}, load_before)
