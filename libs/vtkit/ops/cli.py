"""vt-ops: the operator's command line (bin/vt-ops, or python -m vtkit.ops.cli).

  vt-ops topics                       topics, partitions and how many records each holds
  vt-ops lag                          consumer lag per service group and partition
  vt-ops tail TOPIC [-n N]            the last records' metadata (type, id, tenant, time, size; never the value)
  vt-ops deadletters                  dead-lettered records with their reason
  vt-ops redrive (OFFSET... | --all)  publish dead letters again to their original topic (after fixing the cause)
  vt-ops replay-outbox [--since T]    after a broker lost data: every intake in --data-dir publishes its outbox
                                      (rows sent since T, default all) again, with the same event ids
  vt-ops recover                      every service outbox in --data-dir publishes all its rows again (the services
                                      do this by themselves when the broker's cluster id changes)
  vt-ops quarantine                   outbox rows of every service in --data-dir that can never be sent, with
                                      the reason (set aside by vtkit.outbox; the rows behind them went on)

The broker is --kafka, else KAFKA_BOOTSTRAP_SERVERS, else the running `make run` stack (var/stack.json).
Re-driving twice is harmless: every consumer dedupes on the event id.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pathlib
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from vtkit import topics
from vtkit.config import load_settings
from vtkit.envelope import header_map
from vtkit.kafka import KafkaSettings, make_producer
from vtkit.ops.observer import Observer
from vtkit.outbox_store import quarantined, request_recovery
from vtkit.processes import ROOT

DL_HEADERS = ("dl_reason", "dl_topic", "dl_partition", "dl_offset", "dl_consumer")


def kafka_from(args: argparse.Namespace) -> KafkaSettings:
    """The cluster to read: --kafka, else the environment, else the suite `make run` started.
    SASL/TLS settings always come from the environment (KAFKA_SECURITY_PROTOCOL and friends)."""
    if args.kafka:
        bootstrap = str(args.kafka)
    elif os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    elif (stack := pathlib.Path(args.var_dir) / "stack.json").exists():
        bootstrap = str(json.loads(stack.read_text())["kafka"])
    else:
        sys.exit("no broker: pass --kafka, set KAFKA_BOOTSTRAP_SERVERS, or start the suite with `make run`")
    return load_settings(KafkaSettings, {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap})


def _settings(kafka: str | KafkaSettings) -> KafkaSettings:
    return kafka if isinstance(kafka, KafkaSettings) else KafkaSettings(bootstrap_servers=kafka)


async def read_all(kafka: str | KafkaSettings, topic: str) -> list[ConsumerRecord]:
    """Every record of a topic, from the beginning to its end at the time of the call."""
    consumer = AIOKafkaConsumer(**_settings(kafka).client_kwargs(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += batch
        # tansu (the embedded broker) reports a partition's end as the base offset of its last record batch + 1,
        # so the rest of that batch is only found by reading on, until a poll brings nothing more.
        for _ in range(20):
            more = await consumer.getmany(timeout_ms=300)
            if not more:
                break
            for batch in more.values():
                records += batch
        return sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset))
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 (aiokafka has no public refresh)
    found = consumer.partitions_for_topic(topic)
    if not found:
        sys.exit(f"topic {topic} does not exist")
    return [TopicPartition(topic, p) for p in sorted(found)]


def metadata(record: ConsumerRecord) -> dict[str, Any]:
    headers = header_map(record.headers)
    return {"offset": f"{record.partition}:{record.offset}", "key": (record.key or b"").decode(errors="replace"),
            "type": headers.get("ce_type", ""), "id": headers.get("ce_id", ""), "tenant": headers.get("ce_tenant", ""),
            "time": headers.get("ce_time", ""), "bytes": len(record.value or b""),
            **({"reason": headers["dl_reason"], "from": headers.get("dl_topic", "")} if "dl_reason" in headers else {})}


async def redrive(kafka: str | KafkaSettings, selected: Sequence[str], everything: bool) -> list[str]:
    """Publish dead letters again, with their original headers, to the topic they came from."""
    records = await read_all(kafka, topics.DEAD_LETTERS)
    chosen = [r for r in records if everything or f"{r.partition}:{r.offset}" in selected]
    missing = set(selected) - {f"{r.partition}:{r.offset}" for r in chosen}
    if missing:
        sys.exit(f"no dead letter at {', '.join(sorted(missing))} (see `vt-ops deadletters`)")
    producer = make_producer(_settings(kafka))
    await producer.start()
    done = []
    try:
        for record in chosen:
            headers = header_map(record.headers)
            original = [(k, v) for k, v in (record.headers or ()) if k not in DL_HEADERS]
            await producer.send_and_wait(headers["dl_topic"], record.value, key=record.key, headers=original)
            done.append(f"{record.partition}:{record.offset} -> {headers['dl_topic']}")
    finally:
        await producer.stop()
    return done


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def replay_outboxes(data_dir: pathlib.Path, since: str | None) -> str:
    """Run intake's own replay command on each intake database (the schema is intake's business)."""
    databases = sorted(data_dir.glob("intake-*.sqlite3"))
    if not databases:
        sys.exit(f"no intake databases in {data_dir}")
    out = []
    for database in databases:
        command = [sys.executable, "-m", "intake.replay", str(database), *(["--since", since] if since else [])]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(done.stderr.strip() or f"replay failed for {database}")
        out.append(done.stdout.strip())
    return "\n".join(out)


def quarantine_report(data_dir: pathlib.Path) -> str:
    """Every quarantined outbox row (vtkit.outbox) of the services' databases in `data_dir`, values left out."""
    rows: list[dict[str, Any]] = []
    for database in _outbox_databases(data_dir):
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            rows += [{"database": database.name, **row} for row in quarantined(db)]
    return _table(rows, ["database", "seq", "event_id", "topic", "value_bytes", "quarantined_at", "reason"])


def _outbox_databases(data_dir: pathlib.Path) -> list[pathlib.Path]:
    """The services' SQLite files in `data_dir` that hold a vtkit.outbox."""
    found = []
    for database in sorted(data_dir.glob("*.sqlite3")):
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'outbox_broker'").fetchone():
                found.append(database)
    return found


def recover(data_dir: pathlib.Path) -> str:
    """What the services do by themselves after a broker loss, on demand: every outbox publishes all its rows
    again, with their event ids (consumers dedupe)."""
    lines = []
    for database in _outbox_databases(data_dir):
        with contextlib.closing(sqlite3.connect(database, timeout=10)) as db, db:
            asked = request_recovery(db)
        lines.append(f"{database.name}: {'publishes its outbox again' if asked else 'has published nothing yet'}")
    return "\n".join(lines) or f"no service outboxes in {data_dir}"


async def run(args: argparse.Namespace) -> str:
    if args.command == "recover":
        return recover(pathlib.Path(args.data_dir or pathlib.Path(args.var_dir) / "data"))
    if args.command == "quarantine":
        return quarantine_report(pathlib.Path(args.data_dir or pathlib.Path(args.var_dir) / "data"))
    if args.command == "replay-outbox":
        return replay_outboxes(pathlib.Path(args.data_dir or pathlib.Path(args.var_dir) / "data"), args.since)
    kafka = kafka_from(args)
    if args.command in ("topics", "lag"):
        observer = Observer(kafka)
        summary = await observer.sample()
        if args.command == "topics":
            return _table(summary["topics"], ["name", "tenant", "partitions", "messages"])
        return _table(summary["lag"], ["group", "topic", "partition", "committed", "end", "lag"])
    if args.command == "tail":
        rows = [metadata(r) for r in (await read_all(kafka, args.topic))[-args.n:]]
        return _table(rows, ["offset", "time", "type", "tenant", "id", "key", "bytes"])
    if args.command == "deadletters":
        rows = [metadata(r) for r in await read_all(kafka, topics.DEAD_LETTERS)]
        return _table(rows, ["offset", "from", "type", "reason"])
    return "\n".join(await redrive(kafka, args.offsets, args.all)) or "nothing to re-drive"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vt-ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kafka", help="bootstrap servers")
    parser.add_argument("--var-dir", default=str(ROOT / "var"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("topics")
    sub.add_parser("lag")
    tail = sub.add_parser("tail")
    tail.add_argument("topic")
    tail.add_argument("-n", type=int, default=20)
    sub.add_parser("deadletters")
    again = sub.add_parser("redrive")
    again.add_argument("offsets", nargs="*", help="partition:offset of dead letters")
    again.add_argument("--all", action="store_true")
    replay = sub.add_parser("replay-outbox")
    replay.add_argument("--data-dir", help="where the intakes keep their SQLite files (default: var/data)")
    replay.add_argument("--since", help="ISO 8601 moment with time zone; default: every row")
    recovery = sub.add_parser("recover", help="every service publishes its outbox again (done by itself after a broker loss)")
    recovery.add_argument("--data-dir", help="where the services keep their SQLite files (default: var/data)")
    held = sub.add_parser("quarantine", help="outbox rows that can never be sent (they block nothing)")
    held.add_argument("--data-dir", help="where the services keep their SQLite files (default: var/data)")
    args = parser.parse_args(argv)
    if args.command == "redrive" and not (args.offsets or args.all):
        parser.error("redrive needs offsets or --all")
    print(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
