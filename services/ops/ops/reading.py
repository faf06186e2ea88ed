"""Reading topics for the operator's commands (ops.cli): a topic's records to its end at the time of the call, with
progress on stderr, and a record's metadata (never its value)."""

from __future__ import annotations

import sys
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from vtkit.kafka import KafkaSettings, true_end_offsets

from ops.deadletters import lenient_headers


def settings_of(kafka: str | KafkaSettings) -> KafkaSettings:
    return kafka if isinstance(kafka, KafkaSettings) else KafkaSettings(bootstrap_servers=kafka)


class Reading:
    """Progress of reading records: a rich bar on a terminal; in a log file (stderr not a TTY) a plain line at
    start, every quarter and end, with no cursor movements or colour codes."""

    def __init__(self, console: Console | None, description: str, total: int, unit: str = "records"):
        self.console, self.description, self.total, self.done, self._said = console, description, max(total, 0), 0, -1
        self.unit = unit
        self._bar: Progress | None = None
        if console is not None and console.is_terminal:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=True)
            self._task = self._bar.add_task(description, total=self.total or None)
            self._bar.start()
        else:
            self._line()

    def _line(self) -> None:
        if self.console is None:
            return
        quarter = 4 if self.total == 0 else min(4, 4 * self.done // self.total)
        if quarter != self._said:
            self._said = quarter
            share = f" ({100 * self.done // self.total}%)" if self.total else ""
            self.console.print(f"{self.description}: {self.done} of {self.total} {self.unit}{share}", markup=False,
                               highlight=False)

    def advance(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, completed=min(self.done, self.total) if self.total else self.done)
        else:
            self._line()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self._said != 4:
            self.done = max(self.done, self.total)
            self._line()


async def read_range(kafka: str | KafkaSettings, topic: str, last: int | None = None,
                     progress: Console | None = None) -> list[ConsumerRecord]:
    """The records of a topic up to its end at the time of the call: all of them, or (last=N) the last N of each
    partition, found by seeking to end-N per partition instead of reading the topic from its beginning."""
    settings = settings_of(kafka)
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), enable_auto_commit=False)
    await consumer.start()
    reading: Reading | None = None
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        begins = await consumer.beginning_offsets(partitions)
        # The embedded broker reports a partition's end as its last record batch's first offset + 1.
        ends = await true_end_offsets(settings, await consumer.end_offsets(partitions))
        starts = {tp: begins[tp] if last is None else max(begins[tp], ends[tp] - last) for tp in partitions}
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        reading = Reading(progress, f"reading {topic}", sum(ends[tp] - starts[tp] for tp in partitions))
        records: list[ConsumerRecord] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += batch
                reading.advance(len(batch))
        if last is not None:  # a batch may start before end-N: keep the last N of each partition
            records = [r for tp in partitions
                       for r in sorted((r for r in records if r.partition == tp.partition), key=lambda r: r.offset)[-last:]]
        return sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset))
    finally:
        if reading is not None:
            reading.close()
        await consumer.stop()


async def read_all(kafka: str | KafkaSettings, topic: str, progress: Console | None = None) -> list[ConsumerRecord]:
    """Every record of a topic, from the beginning to its end at the time of the call."""
    return await read_range(kafka, topic, None, progress)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 (aiokafka has no public refresh)
    found = consumer.partitions_for_topic(topic)
    if not found:
        sys.exit(f"topic {topic} does not exist")
    return [TopicPartition(topic, p) for p in sorted(found)]


def metadata(record: ConsumerRecord) -> dict[str, Any]:
    headers, problems = lenient_headers(record)
    return {"offset": f"{record.partition}:{record.offset}", "key": (record.key or b"").decode(errors="replace"),
            "type": headers.get("ce_type", ""), "id": headers.get("ce_id", ""), "tenant": headers.get("ce_tenant", ""),
            "time": headers.get("ce_time", ""), "bytes": len(record.value or b""), "problem": "; ".join(problems)}
