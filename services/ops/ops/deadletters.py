"""Dead letters for operators: one row per record of the dead-letter topic, whatever the record holds; re-drive of
the original record to the one consumer that failed it; and the operator's "handled" marks.

- A row never raises: a header that is not UTF-8, a missing provenance header or a value that does not decode is
  said in the row's `problem` (a reader that stopped at one bad record once showed 5 of 39 dead letters).
- Re-drive reads the original from the topic/partition/offset the dead letter names (vtkit.kafka.dead_letter), not
  the dead letter's copy: only the consumer wrote that copy, but anything allowed to write the dead-letter topic
  could have made one up. The original goes back to its own topic and partition with vtkit.kafka.REDRIVE_FOR naming
  the failed consumer; the other consumers skip it, the failed one dedupes on the event id (at-least-once).
- Handled marks live in the ops service's SQLite file (`<data dir>/ops.sqlite3`), shared by `vt-ops` and the
  dashboard; a mark names the dead letter by its place on the dead-letter topic and its event id, so a new broker
  that reuses the offset (docs/architecture.md, "Broker loss") does not inherit the mark.
No value is ever shown: rows carry headers (metadata) and sizes only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import pathlib
import sqlite3
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition
from vtkit import topics
from vtkit.envelope import DecodeError, decode
from vtkit.kafka import (
    DL_CONSUMER,
    DL_GROUP,
    DL_HEADERS,
    DL_OFFSET,
    DL_PARTITION,
    DL_REASON,
    DL_SERVICE,
    DL_TIME,
    DL_TOPIC,
    REDRIVE_FOR,
    REDRIVE_OF,
    KafkaSettings,
    make_producer,
)

REASON_CHARS = 300


def lenient_headers(record: ConsumerRecord) -> tuple[dict[str, str], list[str]]:
    """Headers as text, with what is wrong with them: a value that is not UTF-8 is shown with U+FFFD."""
    out: dict[str, str] = {}
    problems: list[str] = []
    for key, value in record.headers or ():
        name = key if isinstance(key, str) else bytes(key).decode(errors="replace")
        if value is None:
            out[name] = ""
            continue
        try:
            out[name] = bytes(value).decode()
        except UnicodeDecodeError:
            out[name] = bytes(value).decode(errors="replace")
            problems.append(f"header {name!r} is not UTF-8")
    return out, problems


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def dead_letter_row(record: ConsumerRecord) -> dict[str, Any]:
    """One dead letter as a row for the table (never raises)."""
    try:
        headers, problems = lenient_headers(record)
    except Exception as exc:  # a record broken beyond its headers is still a row
        headers, problems = {}, [f"headers unreadable: {type(exc).__name__}"]
    origin_topic = headers.get(DL_TOPIC, "")
    partition, offset = _int(headers.get(DL_PARTITION, "")), _int(headers.get(DL_OFFSET, ""))
    if not origin_topic:
        problems.append("no dl_topic header: where it came from is unknown")
    try:
        decode(record.value, record.headers)
    except DecodeError as exc:
        problems.append(f"value: {exc}"[:200])
    except Exception as exc:  # noqa: BLE001 (whatever a record holds, it is a row)
        problems.append(f"value: {type(exc).__name__}"[:200])
    time = headers.get(DL_TIME) or dt.datetime.fromtimestamp(record.timestamp / 1000, dt.UTC).isoformat(timespec="seconds")
    consumer = headers.get(DL_CONSUMER, "")
    row: dict[str, Any] = {
        "id": f"{record.partition}:{record.offset}",
        "time": time,
        "consumer": consumer or "?",
        "group": headers.get(DL_GROUP, consumer) or "?",
        "service": headers.get(DL_SERVICE, "") or "?",
        "topic": origin_topic or "?",
        "partition": partition,
        "offset": offset,
        "origin": f"{origin_topic or '?'}/{'?' if partition is None else partition}@{'?' if offset is None else offset}",
        "reason": headers.get(DL_REASON, "")[:REASON_CHARS],
        "type": headers.get("ce_type", ""),
        "event_id": headers.get("ce_id", ""),
        "bytes": int(headers.get("dl_value_bytes") or len(record.value or b"")),
        "problem": "; ".join(problems),
        "handled": None,
        "redriven": None,
    }
    row["redrivable"] = why_not_redrivable(row)
    return row


def why_not_redrivable(row: dict[str, Any]) -> str:
    """Empty when the dead letter can be re-driven, else why not (shown in the table and refused by redrive)."""
    if row["topic"] == "?" or row["partition"] is None or row["offset"] is None:
        return "no original topic/partition/offset: nothing to re-read"
    if row["consumer"] == "?":
        return "no dl_consumer header: the consumer to re-drive to is unknown"
    if row["topic"] == topics.NATIONAL_DELIVERIES and row["service"] == "notifier":
        return "a failed delivery of the notifier: re-drive it in the notifier's store (python -m notifier.redrive)"
    return ""


class HandledStore:
    """The operator's marks on dead letters (handled, re-driven), durable in the ops service's SQLite file."""

    def __init__(self, path: pathlib.Path | str | None):
        self.path = str(path) if path else ":memory:"
        if path:
            pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        with self._db:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS dead_letter_marks (dead_letter TEXT NOT NULL, event_id TEXT "
                             "NOT NULL, consumer TEXT NOT NULL, handled_at TEXT, handled_by TEXT, redriven_at TEXT, "
                             "PRIMARY KEY (dead_letter, event_id))")

    @classmethod
    def in_dir(cls, data_dir: pathlib.Path | str | None) -> HandledStore:
        return cls(pathlib.Path(data_dir) / "ops.sqlite3" if data_dir else None)

    def close(self) -> None:
        self._db.close()

    def _upsert(self, row: dict[str, Any], column: str, value: str, by: str = "") -> None:
        with self._db:
            self._db.execute("INSERT INTO dead_letter_marks (dead_letter, event_id, consumer) VALUES (?, ?, ?) "
                             "ON CONFLICT DO NOTHING", (row["id"], row["event_id"], row["consumer"]))
            self._db.execute(f"UPDATE dead_letter_marks SET {column} = ?" + (", handled_by = ?" if by else "")
                             + " WHERE dead_letter = ? AND event_id = ?",
                             (value, *((by,) if by else ()), row["id"], row["event_id"]))

    def mark_handled(self, row: dict[str, Any], by: str) -> str:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._upsert(row, "handled_at", now, by or "operator")
        return now

    def mark_redriven(self, row: dict[str, Any]) -> str:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._upsert(row, "redriven_at", now)
        return now

    def annotate(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows with their marks filled in."""
        marks = {(d, e): (h, r) for d, e, h, r in
                 self._db.execute("SELECT dead_letter, event_id, handled_at, redriven_at FROM dead_letter_marks")}
        out = []
        for row in rows:
            handled, redriven = marks.get((row["id"], row["event_id"]), (None, None))
            out.append({**row, "handled": handled, "redriven": redriven})
        return out


async def read_original(kafka: KafkaSettings, topic: str, partition: int, offset: int,
                        timeout: float = 15.0) -> ConsumerRecord | None:
    """The record at topic/partition/offset, or None when the broker no longer holds it."""
    import time

    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        begin = (await consumer.beginning_offsets([tp]))[tp]
        if offset < begin:
            return None
        consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batches = await consumer.getmany(tp, timeout_ms=500)
            records = batches.get(tp, [])
            for record in records:
                if record.offset == offset:
                    return record
                if record.offset > offset:
                    return None  # compacted or gone
            if not records and (await consumer.end_offsets([tp]))[tp] <= offset:
                return None
        return None
    finally:
        await consumer.stop()


async def redrive_rows(kafka: KafkaSettings, rows: list[dict[str, Any]], store: HandledStore | None) -> list[str]:
    """Re-drive each row's original record to its failed consumer; one line per row saying what happened."""
    lines: list[str] = []
    producer = make_producer(kafka)
    await producer.start()
    try:
        for row in rows:
            if why := row["redrivable"]:
                lines.append(f"{row['id']}: not re-driven: {why}")
                continue
            original = await read_original(kafka, row["topic"], row["partition"], row["offset"])
            if original is None:
                lines.append(f"{row['id']}: not re-driven: the original {row['origin']} is no longer on the broker")
                continue
            headers, _ = lenient_headers(original)
            if row["event_id"] and headers.get("ce_id", "") != row["event_id"]:
                # The dead letter does not describe the record at that offset (made up, or a broker that was replaced):
                # re-driving it would send another record than the one that failed.
                lines.append(f"{row['id']}: not re-driven: the record at {row['origin']} has another event id")
                continue
            kept = [(k, v) for k, v in (original.headers or ()) if k not in (REDRIVE_FOR, REDRIVE_OF, *DL_HEADERS)]
            await producer.send_and_wait(row["topic"], original.value, key=original.key, partition=row["partition"],
                                         headers=kept + [(REDRIVE_FOR, row["consumer"].encode()),
                                                         (REDRIVE_OF, row["origin"].encode())])
            if store is not None:
                store.mark_redriven(row)
            lines.append(f"{row['id']} -> {row['origin']} for {row['consumer']}")
    finally:
        await producer.stop()
    return lines


def handled_db(data_dir: pathlib.Path | str | None) -> contextlib.closing[HandledStore]:
    return contextlib.closing(HandledStore.in_dir(data_dir))
