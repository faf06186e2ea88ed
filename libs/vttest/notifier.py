"""Helpers for tests that run the real notifier process (tests/integration, tests/e2e).

Not used by the service itself; kept in the package so every test tree can import it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pathlib
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from notifier.consumer import source_topics
from vt.common.v1 import common_pb2
from vt.notifier.v1 import events_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vtkit import topics
from vtkit.calendar import AMSTERDAM, due_after_working_days
from vtkit.envelope import Envelope, envelope_for, header_map
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore

from vttest import ServiceProcess

WAIT = 60.0
# Received on the Monday before Christmas: 25 and 26 December do not count.
RECEIVED = dt.datetime(2025, 12, 22, 10, 30, tzinfo=AMSTERDAM)
EXPECTED_DUE = dt.date(2025, 12, 31)


def assessment_due(tenant: str, case_id: str, with_due_date: bool = True) -> radar_events.AssessmentDue:
    msg = radar_events.AssessmentDue(tenant_id=tenant, case_id=case_id, acute=False,
                                     melder=common_pb2.EncryptedField(key_id=f"{tenant}:1", nonce=b"n" * 12,
                                                                      ciphertext=b"opaque-melder"),
                                     melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL)
    msg.received_at.FromDatetime(RECEIVED.astimezone(dt.UTC))
    if with_due_date:
        due = due_after_working_days(RECEIVED, 5)
        msg.due_date.CopyFrom(common_pb2.Date(year=due.year, month=due.month, day=due.day))
    return msg


async def publish_due(publisher: Publisher, msg: radar_events.AssessmentDue, event_id: str | None = None,
                      record_key: str | None = None) -> Envelope:
    envelope = envelope_for(msg, source=f"radar/{msg.tenant_id}", tenant=msg.tenant_id, event_id=event_id)
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, record_key or msg.case_id, msg, envelope)
    return envelope


class Notifier:
    """Starts `python -m notifier` with a test's environment; restartable on the same data dir."""

    def __init__(self, kafka: str, keys: KeyStore, data_dir: pathlib.Path, log_dir: pathlib.Path,
                 endpoints: dict[str, str], **extra: str):
        self.env = {"KAFKA_BOOTSTRAP_SERVERS": kafka, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(data_dir),
                    "NOTIFIER_REGIONAL_ENDPOINTS": ",".join(f"{t}={a}" for t, a in endpoints.items()),
                    "NOTIFIER_RETRY_BASE_SECONDS": "0.2", "NOTIFIER_SCAN_SECONDS": "0.2",
                    "NOTIFIER_GROUP_ID": f"vt-notifier-test-{uuid.uuid4().hex[:8]}", **extra}
        self.log_dir = log_dir
        self.runs = 0
        self.proc: ServiceProcess | None = None
        self._positioned: set[str] = set()

    async def start(self, from_end: bool = True) -> ServiceProcess:
        """Start (again). With `from_end`, a group id not used before first skips everything already
        on the source topics, so events other suites left on the shared broker (radar's AssessmentDue
        for the same tenant) do not reach this test's fake and disturb its call counts."""
        group = self.env["NOTIFIER_GROUP_ID"]
        if from_end and group not in self._positioned:
            await position_group_at_end(self.env["KAFKA_BOOTSTRAP_SERVERS"], group, source_topics())
        self._positioned.add(group)
        self.runs += 1
        self.proc = ServiceProcess("notifier", "notifier", env=self.env,
                                   log_path=self.log_dir / f"notifier-{self.runs}.log").start()
        try:
            await wait_healthy(self.proc.address, timeout=WAIT, keys=KeyStore(self.env["VT_KEY_DIR"]))
        except TimeoutError:
            raise AssertionError(f"notifier did not become healthy:\n{self.proc.log_text()[-3000:]}") from None
        return self.proc

    def stop(self) -> int | None:
        return self.proc.stop() if self.proc else None


async def position_group_at_end(kafka: str, group_id: str, topic_names: list[str]) -> None:
    """Commit the current end offsets of every partition of `topic_names` for `group_id`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # loads metadata of every topic, so partitions_for_topic knows them
        partitions = [TopicPartition(t, p) for t in topic_names for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: offset for tp, offset in ends.items()})
    finally:
        await consumer.stop()


async def redrive(data_dir: str, *args: str) -> str:
    """Runs the operator command `python -m notifier.redrive ARGS` on `data_dir`; returns its stdout."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "notifier.redrive", *args,
                                                env={**os.environ, "VT_DATA_DIR": data_dir},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise AssertionError(f"redrive {args} exited {proc.returncode}: {err.decode()}")
    return out.decode()


class DeliveryEvents:
    """Reads vt.national.deliveries.v1 and the dead-letter topic with a fresh consumer group."""

    def __init__(self, kafka: str):
        self.consumer = AIOKafkaConsumer(topics.NATIONAL_DELIVERIES, topics.DEAD_LETTERS, bootstrap_servers=kafka,
                                         group_id=f"test-deliveries-{uuid.uuid4().hex[:8]}",
                                         auto_offset_reset="earliest", enable_auto_commit=False)
        self.seen: list[tuple[str, str, Any, dict[str, str]]] = []

    async def wait_for(self, check: Callable[[list[tuple[str, str, Any, dict[str, str]]]], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not check(self.seen):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; saw {[(t, n) for t, n, _, _ in self.seen]}")
            batches = await self.consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    # Another test's malformed record may be on the shared dead-letter topic.
                    headers = header_map(record.headers, strict=False)
                    kind = headers.get("ce_type", "")
                    cls = {m.DESCRIPTOR.full_name: m for m in (events_pb2.DeliveryRequested, events_pb2.DeliveryDelivered,
                                                               events_pb2.DeliveryFailed,
                                                               events_pb2.DeliveryOverdue)}.get(kind)
                    if cls is not None:
                        self.seen.append((record.topic, kind.rsplit(".", 1)[-1], cls.FromString(record.value), headers))


def of_case(case_id: str, name: str, topic: str = topics.NATIONAL_DELIVERIES) -> Callable[[list[Any]], list[Any]]:
    return lambda seen: [m for t, n, m, _ in seen if t == topic and n == name and m.case_id == case_id]


