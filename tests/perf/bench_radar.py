"""Throughput of radar against the embedded broker, next to the raw broker throughput.

    .venv/bin/pytest -m bench tests/perf -s -p no:cacheprovider     (RADAR_BENCH_N=2000 by default)

1. radar: N MeldingReceived (one sealed person each, spread over the 25 regions' intake topics) are
   published as fast as the producer goes to an idle, running radar process (rocksdict tables, as in
   production). Measured from the first send until every AssessmentDue (intake agent) and every
   AssessmentInput (after the re-key onto the person and the person agent) is on the assessments topic.
2. raw: the same number of records of the same size and headers produced with aiokafka to a fresh
   4-partition topic of the same broker and consumed by one aiokafka consumer; from the first send
   until the last record is consumed.
Also radar's CPU time per melding (/proc, from the first send until every AssessmentInput is out).
The melding messages are built (sealed, encrypted) before the clock starts."""

from __future__ import annotations

import asyncio
import os
import pathlib
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from loadgen.cpu import cpu_seconds
from loadgen.turns import write_single
from simulators.rvdk import random_bsn
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import encode, envelope_for, new_event_id
from vtkit.kafka import KafkaSettings, Publisher, ensure_topics
from vtkit.keystore import KeyStore
from vtkit.signing import Signers
from vtkit.tenants import all_tenants
from vttest import assigned, send_all
from vttest.radar import melding_received, radar_process, start_radar

N = int(os.environ.get("RADAR_BENCH_N", "2000"))
TIMEOUT = 600.0

pytestmark = pytest.mark.bench


async def _count_until(consumer: AIOKafkaConsumer, wanted: dict[str, set[str]], t0: float) -> dict[str, float]:
    """Reads until every case id of each wanted event type was seen; returns seconds since t0 per type."""
    done: dict[str, float] = {}
    deadline = time.monotonic() + TIMEOUT
    while len(done) < len(wanted):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {[(k, len(v)) for k, v in wanted.items()]} still missing")
        batches = await consumer.getmany(timeout_ms=200, max_records=5000)
        for records in batches.values():
            for record in records:
                ce_type = dict(record.headers).get("ce_type", b"").decode()
                kind = ce_type.rsplit(".", 1)[-1]
                if kind in wanted and kind not in done:
                    wanted[kind].discard(getattr(events_pb2, kind).FromString(record.value).case_id)
                    if not wanted[kind]:
                        done[kind] = time.perf_counter() - t0
    return done


async def test_radar_throughput_against_raw_aiokafka(kafka: str, keys: KeyStore, publisher: Publisher,
                                                     tmp_path: pathlib.Path) -> None:
    load_before = os.getloadavg()[0]
    tenants = sorted(all_tenants())
    signers = Signers(keys.root)
    prepared = []
    for i in range(N):
        tenant = tenants[i % len(tenants)]
        event_id = new_event_id()
        msg = melding_received(keys, tenant, [random_bsn()], event_id=event_id)
        value, headers = encode(msg, envelope_for(msg, source=f"intake/{tenant}", tenant=tenant, event_id=event_id))
        headers = signers.headers(topics.intake(tenant), msg.contact_id.encode(), value, headers)  # as intake signs
        prepared.append((topics.intake(tenant), msg.contact_id, value, headers))
    size = sum(len(v) + sum(len(k) + len(h) for k, h in hs) for _, _, v, hs in prepared) // N

    process = radar_process(kafka, keys, tmp_path / "data", tmp_path / "radar.log",
                            app_id=f"vt-radar-bench-{uuid.uuid4().hex[:8]}")
    await start_radar(process)
    watcher = AIOKafkaConsumer(topics.NATIONAL_ASSESSMENTS, bootstrap_servers=kafka, group_id=f"bench-{uuid.uuid4()}",
                               auto_offset_reset="latest", enable_auto_commit=False)
    try:
        await watcher.start()
        await assigned(watcher, at_end=True)  # "latest" fixed before anything is published
        await asyncio.sleep(2.0)  # radar idle and joined
        case_ids = {case_id for _, case_id, _, _ in prepared}
        wanted = {"AssessmentDue": set(case_ids), "AssessmentInput": set(case_ids)}
        assert process.proc is not None
        cpu_before = cpu_seconds(process.proc.pid)
        t0 = time.perf_counter()
        await send_all(publisher.producer, prepared)
        published = time.perf_counter() - t0
        done = await _count_until(watcher, wanted, t0)
        radar_cpu_ms = 1000 * (cpu_seconds(process.proc.pid) - cpu_before) / N
    finally:
        await watcher.stop()
        assert process.stop() == 0, process.log_text()[-3000:]
    due_rate = N / done["AssessmentDue"]
    input_rate = N / done["AssessmentInput"]

    # Raw aiokafka through the same broker: same record count, size and headers.
    raw_topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(KafkaSettings(bootstrap_servers=kafka), [topics.TopicSpec(raw_topic, 4)])
    consumer = AIOKafkaConsumer(raw_topic, bootstrap_servers=kafka, group_id=f"bench-raw-{uuid.uuid4()}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        await assigned(consumer)
        t0 = time.perf_counter()
        await send_all(publisher.producer, [(raw_topic, key, value, headers) for _, key, value, headers in prepared])
        raw_published = time.perf_counter() - t0
        seen = 0
        while seen < N:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            seen += sum(len(r) for r in batches.values())
        raw_seconds = time.perf_counter() - t0
    finally:
        await consumer.stop()
    raw_rate = N / raw_seconds

    print(f"\nradar bench: {N} meldingen, ~{size} bytes per record (value + headers), broker {kafka}")
    print(f"  published in {published:.2f} s ({N / published:.0f}/s)")
    print(f"  radar AssessmentDue   all out after {done['AssessmentDue']:.2f} s: {due_rate:.0f} events/s")
    print(f"  radar AssessmentInput all out after {done['AssessmentInput']:.2f} s: {input_rate:.0f} events/s")
    print(f"  radar CPU per melding {radar_cpu_ms:.2f} ms (user + system, /proc, until every AssessmentInput was out)")
    print(f"  raw aiokafka produce->consume {raw_seconds:.2f} s (produced in {raw_published:.2f} s): {raw_rate:.0f} records/s")
    print(f"  ratio radar/raw: AssessmentDue {due_rate / raw_rate:.2f}, AssessmentInput {input_rate / raw_rate:.2f}")
    assert due_rate > 0 and input_rate > 0 and raw_rate > 0
    write_single("radar", {"radar": radar_cpu_ms, "assessment_due_per_s": due_rate,
                           "assessment_input_per_s": input_rate, "raw_per_s": raw_rate}, load_before)
