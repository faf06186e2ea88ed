"""vtkit.outbox's relay on a real SQLite outbox and the real broker: what cannot ever be sent is quarantined
with its reason, whatever refuses it (the service's own conversion, the consumers' record limit, the Kafka
client), and the rows behind it are sent; what was sent is marked sent, once."""

from __future__ import annotations

import asyncio
import pathlib
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka.errors import RecordTooLargeError
from ops.cli import read_all
from vtkit import metrics, topics
from vtkit.envelope import MAX_VALUE_BYTES
from vtkit.kafka import KafkaSettings, ensure_topics, send_batched
from vtkit.outbox import OutboxRecord, OutboxRelay, OwnProducer
from vtkit.outbox_store import SqliteOutbox, StoredRow, quarantined
from vttest import eventually

TOPIC = topics.NATIONAL_RVDK


def record(value: bytes = b"ok", headers: list[tuple[str, bytes]] | None = None) -> OutboxRecord:
    event_id = str(uuid.uuid4())
    return OutboxRecord(TOPIC, event_id.encode(), value, [("ce_id", event_id.encode()), *(headers or [])], event_id)


async def _run_until_drained(relay: OutboxRelay[StoredRow], outbox: SqliteOutbox) -> None:
    """Runs the relay until every row is sent or quarantined (at most 30 s), then stops it."""
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        for _ in range(150):
            if outbox.unsent_count() == 0:
                break
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await running


async def test_poison_rows_are_quarantined_and_the_rows_behind_them_sent(tmp_path: pathlib.Path, kafka: str) -> None:
    await ensure_topics(KafkaSettings(bootstrap_servers=kafka))
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite3")
    unconvertible = record(b"the service cannot turn this row into a record")
    too_large_for_consumers = record(b"x" * (MAX_VALUE_BYTES + 1))
    too_large_for_the_client = record(headers=[("padding", b"h" * 1_100_000)])  # over aiokafka's request limit
    good = [record() for _ in range(3)]
    outbox.add([good[0], unconvertible, too_large_for_consumers, good[1], too_large_for_the_client, good[2]])

    def records(row: StoredRow) -> list[OutboxRecord]:
        if row.record.event_id == unconvertible.event_id:
            raise ValueError("no such event type")
        return [row.record]

    seen_quarantine: list[int] = []

    async def told(count: int) -> None:
        seen_quarantine.append(count)

    relay = OutboxRelay("test", outbox, records, OwnProducer(KafkaSettings(bootstrap_servers=kafka)), on_quarantine=told)
    await _run_until_drained(relay, outbox)
    on_topic = {r.key.decode() for r in await read_all(kafka, TOPIC) if r.key}
    assert {r.event_id for r in good} <= on_topic
    assert not {unconvertible.event_id, too_large_for_consumers.event_id} & on_topic
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as db:
        held = {row["seq"]: row for row in quarantined(db)}
    # Rows 2, 3 and 5 of the six; a row that could not become a record is known by its sequence number only.
    assert sorted(held) == [2, 3, 5]
    assert "ValueError: no such event type" in held[2]["reason"]
    assert held[3]["event_id"] == too_large_for_consumers.event_id and "exceeds the limit" in held[3]["reason"]
    assert held[5]["event_id"] == too_large_for_the_client.event_id
    assert "MessageSizeTooLargeError" in held[5]["reason"]
    assert outbox.unsent_count() == 0 and outbox.quarantined_count() == 3
    assert seen_quarantine[-1] == 3
    outbox.close()


async def test_a_refusal_in_a_batch_shared_by_rows_quarantines_only_the_poison_row(
        tmp_path: pathlib.Path, kafka: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker refuses a record batch as a whole. When the batch held records of several rows the relay cannot
    tell which row is poison: it quarantines none, and the next pass sends one record per batch, where the refusal
    names its row. The embedded broker refuses no size (it ignores max.message.bytes), so the refusal is made here:
    a batch holding the poison record fails with RecordTooLargeError, as a Kafka broker answers it."""
    await ensure_topics(KafkaSettings(bootstrap_servers=kafka))
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite3")
    same_key = b"one-case"  # one partition, so the rows share a batch
    rows = [OutboxRecord(TOPIC, same_key, value, [("ce_id", value)], value.decode())
            for value in (f"good-{uuid.uuid4()}".encode(), f"poison-{uuid.uuid4()}".encode(),
                          f"good-{uuid.uuid4()}".encode())]
    outbox.add(rows)
    passes: list[bool] = []

    async def refusing(producer: Any, records: Sequence[Any], *, alone: bool = False) -> list[asyncio.Future[Any]]:
        passes.append(alone)
        poison = [value.startswith(b"poison") for _, _, value, _ in records]
        refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        refused.set_exception(RecordTooLargeError("the broker refused the batch"))
        if any(poison) and not alone:
            return [refused] * len(records)  # one batch (the rows share a partition), refused as a whole
        sent = iter(await send_batched(producer, [r for r, bad in zip(records, poison, strict=True) if not bad],
                                       alone=alone))
        return [refused if bad else next(sent) for bad in poison]

    monkeypatch.setattr("vtkit.outbox.send_batched", refusing)
    relay = OutboxRelay("test", outbox, lambda row: [row.record], OwnProducer(KafkaSettings(bootstrap_servers=kafka)),
                        max_backoff=0.2)
    await _run_until_drained(relay, outbox)
    assert passes[:2] == [False, True]  # the shared batch, then one record per batch
    on_topic = {r.value for r in await read_all(kafka, TOPIC) if r.key == same_key}
    assert {rows[0].value, rows[2].value} <= on_topic and rows[1].value not in on_topic
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as db:
        held = list(quarantined(db))
    assert [row["event_id"] for row in held] == [rows[1].event_id]
    assert "RecordTooLargeError" in held[0]["reason"]
    outbox.close()


class CountedOutbox(SqliteOutbox):
    """Counts the relay's reads of unsent rows."""

    reads = 0

    def unsent(self, limit: int = 100) -> list[StoredRow]:
        self.reads += 1
        return super().unsent(limit)


async def test_a_pass_that_reads_less_than_a_batch_reads_no_more_and_shows_an_empty_backlog(
        tmp_path: pathlib.Path, kafka: str) -> None:
    await ensure_topics(KafkaSettings(bootstrap_servers=kafka))
    outbox = CountedOutbox(tmp_path / "outbox.sqlite3")
    outbox.add([record() for _ in range(5)])
    relay = OutboxRelay("test-short-pass", outbox, lambda row: [row.record],
                        OwnProducer(KafkaSettings(bootstrap_servers=kafka)), batch_size=3)
    try:
        assert await relay.publish_pending() == 5
        # A full batch of 3, then 2: fewer than a batch is all there was, so no third read for an empty answer.
        assert outbox.reads == 2 and outbox.unsent_count() == 0
        assert metrics.OUTBOX_BACKLOG.labels("test-short-pass", "")._value.get() == 0
        outbox.add([record()])
        assert await relay.publish_pending() == 1 and outbox.reads == 3
    finally:
        await relay.producer.close()
        outbox.close()


async def test_a_relay_with_a_linger_waits_after_the_waking_commit_for_the_next_ones(
        tmp_path: pathlib.Path, kafka: str) -> None:
    await ensure_topics(KafkaSettings(bootstrap_servers=kafka))
    outbox = CountedOutbox(tmp_path / "outbox.sqlite3")
    relay = OutboxRelay("test-linger", outbox, lambda row: [row.record], OwnProducer(KafkaSettings(bootstrap_servers=kafka)),
                        linger=60.0, poll_interval=60.0)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: outbox.reads == 1, "the first pass (nothing to send)", interval=0.01)
        outbox.add([record()])
        relay.wake()
        await asyncio.sleep(0.2)
        assert outbox.reads == 1 and outbox.unsent_count() == 1  # woken, but lingering: nothing read yet
        outbox.add([record()])
        relay.wake()
    finally:
        stop.set()  # ends the linger: the last pass sends what the linger gathered
        await running
    assert outbox.unsent_count() == 0 and outbox.reads == 2  # both in one read
    outbox.close()
