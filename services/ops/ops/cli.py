"""vt-ops: the operator's command line (bin/vt-ops, or python -m ops.cli).

  vt-ops topics                       topics, partitions and how many records each holds
  vt-ops lag                          consumer lag per service group and partition
  vt-ops tail TOPIC [-n N]            the last N records' metadata (type, id, tenant, time, size; never the value),
                                      read from the end of each partition
  vt-ops deadletters [--open]         dead letters: failing consumer, time, original topic/partition@offset, reason,
                                      handled mark; a malformed record is a row saying what is wrong
  vt-ops redrive (ID... | --all)      re-read each dead letter's ORIGINAL record from its topic/partition/offset and
                                      send it to the consumer that failed it only (after fixing the cause)
  vt-ops handled ID...                mark dead letters handled (kept in <data dir>/ops.sqlite3, shown everywhere)
  vt-ops case REFERENCE|CASE_ID       the story of one case in time order: intake, assessments, register,
                                      deliveries, dead letters and audit records (metadata only)
  vt-ops replay-outbox [--since T]    after a broker lost data: every intake in --data-dir publishes its outbox
                                      (rows sent since T, default all) again, with the same event ids
  vt-ops recover                      every service outbox in --data-dir publishes all its rows again (the services
                                      do this by themselves when the broker's cluster id changes)
  vt-ops quarantine                   outbox rows of every service in --data-dir that can never be sent, with
                                      the reason (set aside by vtkit.outbox; the rows behind them went on)

The broker is --kafka, else KAFKA_BOOTSTRAP_SERVERS, else the running `make run` stack (var/stack.json).
Re-driving twice is harmless: every consumer dedupes on the event id. Tables are rich tables; progress goes to
stderr as a bar on a terminal and as plain lines in a log file. No value (personal data) is ever printed.
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
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from vtkit import topics
from vtkit.config import load_settings
from vtkit.envelope import DecodeError, decode
from vtkit.kafka import KafkaSettings, true_end_offsets
from vtkit.outbox_store import quarantined, request_recovery

from ops.deadletters import HandledStore, dead_letter_row, lenient_headers, redrive_rows
from ops.observer import Observer

# The checkout (services/ops/ops/cli.py -> the repository; /app in the image): `make run` writes var/ there.
ROOT = pathlib.Path(__file__).resolve().parents[3]


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
    settings = _settings(kafka)
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


async def dead_letters(kafka: str | KafkaSettings, store: HandledStore, progress: Console | None = None) -> list[dict[str, Any]]:
    """Every dead letter as a row (ops.deadletters: never raises), with the operator's marks."""
    return store.annotate(dead_letter_row(r) for r in await read_all(kafka, topics.DEAD_LETTERS, progress))


def _choose(rows: list[dict[str, Any]], selected: Sequence[str], everything: bool) -> list[dict[str, Any]]:
    chosen = [r for r in rows if (everything and not r["handled"]) or r["id"] in selected]
    missing = set(selected) - {r["id"] for r in chosen}
    if missing:
        sys.exit(f"no dead letter {', '.join(sorted(missing))} (see `vt-ops deadletters`)")
    return chosen


async def redrive(kafka: str | KafkaSettings, selected: Sequence[str], everything: bool,
                  store: HandledStore | None = None, progress: Console | None = None) -> list[str]:
    """Re-drive dead letters (ids = partition:offset on the dead-letter topic; --all: those not marked handled):
    each one's original record, re-read from its topic, to the consumer that failed it only."""
    store = store or HandledStore(None)
    chosen = _choose(await dead_letters(kafka, store, progress), selected, everything)
    return await redrive_rows(_settings(kafka), chosen, store)


def table(rows: list[dict[str, Any]], columns: Sequence[str], title: str | None = None,
          headers: dict[str, str] | None = None) -> Table | str:
    """A rich table; cells are plain text (a record's header is never read as console markup)."""
    if not rows:
        return "(none)"
    out = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        out.add_column((headers or {}).get(column, column), overflow="fold",
                       justify="right" if column in NUMERIC else "left")
    for row in rows:
        out.add_row(*(_text(row.get(c)) for c in columns))
    return out


FILE_WIDTH = 10_000
NUMERIC = {"partitions", "messages", "committed", "end", "lag", "bytes", "seq", "value_bytes", "partition"}


def _text(value: Any) -> Any:
    from rich.text import Text

    return Text("" if value is None else str(value))


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> Table | str:
    return table(rows, columns)


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


def quarantine_report(data_dir: pathlib.Path) -> Table | str:
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




# Fields that name a case (or a contact that is one) in the events of the suite; their values are ids, never
# personal data, so they may be matched and shown.
CASE_FIELDS = ("case_id", "contact_id", "episode_case_id", "melding_id", "advies_id", "linked_advies_id",
               "previous_advies_id", "dossier_id")
CASE_LISTS = ("contact_ids", "episode_case_ids")


def _case_ids(message: Any) -> set[str]:
    fields = message.DESCRIPTOR.fields_by_name
    ids = {str(getattr(message, f)) for f in CASE_FIELDS if f in fields and getattr(message, f)}
    for f in CASE_LISTS:
        if f in fields:
            ids |= {str(v) for v in getattr(message, f)}
    return ids


def _detail(message: Any) -> str:
    """What kind of step an event is, from its enums and flags only (never a text field)."""
    parts = []
    for field in message.DESCRIPTOR.fields:
        if getattr(field, "is_repeated", False) or getattr(field, "label", 0) == 3:  # 3: LABEL_REPEATED
            continue
        value = getattr(message, field.name)
        if field.enum_type is not None and value:
            parts.append(f"{field.name}={field.enum_type.values_by_number[value].name}")
        elif field.type == field.TYPE_BOOL and value:
            parts.append(field.name)
    return " ".join(parts)[:120]


async def case_story(kafka: str | KafkaSettings, ident: str, progress: Console | None = None) -> list[dict[str, Any]]:
    """Every record about one case (by its reference or case id), in time order, as metadata: intake, national
    assessments, register, deliveries (the notifier's Delivery* events), dead letters and audit records (action,
    service, role, outcome: never the user, purpose or detail)."""
    from aiokafka.admin import AIOKafkaAdminClient
    from vt.audit.v1 import events_pb2 as audit_events
    from vtkit.tenants import all_tenants

    admin = AIOKafkaAdminClient(**_settings(kafka).client_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())  # asking a missing topic's partitions would create it on tansu
    finally:
        await admin.close()
    regional = [name for t in sorted(all_tenants()) for name in (topics.intake(t), topics.register(t))]
    wanted = [t for t in [*regional, topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_DELIVERIES, topics.DEAD_LETTERS,
                          topics.NATIONAL_AUDIT] if t in existing]
    decoded: list[tuple[ConsumerRecord, Any]] = []
    reading = Reading(progress, "reading topics", len(wanted), "topics")
    for topic in wanted:
        records = await read_all(kafka, topic)
        reading.advance(1)
        for record in records:
            try:
                decoded.append((record, decode(record.value, record.headers).message))
            except DecodeError:
                decoded.append((record, None))
    reading.close()
    ids = {ident}
    for _, message in decoded:  # a reference names the melding's case; links bring their partners in
        if message is not None and getattr(message, "reference", None) == ident:
            ids |= _case_ids(message)
    for _ in range(2):
        for record, message in decoded:
            if message is not None and record.topic != topics.NATIONAL_AUDIT and _case_ids(message) & ids:
                ids |= {i for i in _case_ids(message) if i} - {getattr(message, "dossier_id", "")}
    rows = []
    for record, message in decoded:
        headers, _ = lenient_headers(record)
        base = {"topic": record.topic, "offset": f"{record.partition}:{record.offset}", "event_id": headers.get("ce_id", ""),
                "tenant": headers.get("ce_tenant", ""), "time": headers.get("ce_time", "")}
        if isinstance(message, audit_events.AuditRecord):
            if ids & set(message.subject.values()):
                rows.append({**base, "time": message.when, "type": f"audit {message.action}",
                             "detail": f"{message.what} by {message.service} ({message.role or '-'}): {message.outcome}"})
        elif record.topic == topics.DEAD_LETTERS:
            row = dead_letter_row(record)
            if (record.key or b"").decode(errors="replace") in ids or (message is not None and _case_ids(message) & ids):
                rows.append({**base, "type": f"dead letter ({row['type'] or '?'})",
                             "detail": f"{row['consumer']} on {row['origin']}: {row['reason'][:80]}"})
        elif message is not None and _case_ids(message) & ids:
            rows.append({**base, "type": type(message).__name__, "detail": _detail(message)})
    return sorted(rows, key=lambda r: r["time"])


def _data_dir(args: argparse.Namespace) -> pathlib.Path:
    return pathlib.Path(args.data_dir or pathlib.Path(args.var_dir) / "data")


async def run(args: argparse.Namespace, progress: Console | None = None) -> Table | str:
    if args.command == "recover":
        return recover(_data_dir(args))
    if args.command == "quarantine":
        return quarantine_report(_data_dir(args))
    if args.command == "replay-outbox":
        return replay_outboxes(_data_dir(args), args.since)
    if args.command == "handled":
        kafka = kafka_from(args)
        with contextlib.closing(HandledStore.in_dir(_data_dir(args))) as store:
            chosen = _choose(await dead_letters(kafka, store, progress), args.ids, False)
            return "\n".join(f"{row['id']}: handled at {store.mark_handled(row, args.by)}" for row in chosen)
    kafka = kafka_from(args)
    if args.command in ("topics", "lag"):
        summary = await Observer(kafka).sample()
        if args.command == "topics":
            return table(summary["topics"], ["name", "tenant", "partitions", "messages"], "topics")
        return table(summary["lag"], ["group", "topic", "partition", "committed", "end", "lag"], "consumer lag")
    if args.command == "tail":
        rows = [metadata(r) for r in (await read_range(kafka, args.topic, args.n, progress))[-args.n:]]
        return table(rows, ["offset", "time", "type", "tenant", "id", "key", "bytes", "problem"],
                     f"last {args.n} of {args.topic}")
    if args.command == "deadletters":
        with contextlib.closing(HandledStore.in_dir(_data_dir(args))) as store:
            rows = [r for r in await dead_letters(kafka, store, progress) if not (args.open and r["handled"])]
        for row in rows:
            row["status"] = (f"handled {row['handled']}" if row["handled"] else "open") + (
                f", re-driven {row['redriven']}" if row["redriven"] else "")
        return table(rows, ["id", "time", "consumer", "group", "origin", "type", "reason", "problem", "status"],
                     "dead letters (id = partition:offset on vt.national.deadletter.v1)")
    if args.command == "case":
        rows = await case_story(kafka, args.ident, progress)
        return table(rows, ["time", "topic", "offset", "type", "event_id", "tenant", "detail"], f"case {args.ident}") \
            if rows else f"nothing found about {args.ident}"
    with contextlib.closing(HandledStore.in_dir(_data_dir(args))) as store:
        return "\n".join(await redrive(kafka, args.ids, args.all, store, progress)) or "nothing to re-drive"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="vt-ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--kafka", help="bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS, else var/stack.json)")
    top.add_argument("--var-dir", default=str(ROOT / "var"), help="the make run directory (default: %(default)s)")
    top.add_argument("--data-dir", help="the services' SQLite files and ops.sqlite3 (default: VAR_DIR/data)")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        made = sub.add_parser(name, help=text, description=text)
        # also accepted after the command, as operators type it (vt-ops quarantine --data-dir ...)
        made.add_argument("--data-dir", default=argparse.SUPPRESS, help="as the global --data-dir")
        return made

    command("topics", "topics, their region, partitions and how many records each holds")
    command("lag", "consumer lag of the services' groups per topic and partition")
    tail = command("tail", "the last N records' metadata (never the value), read from the end of each partition")
    tail.add_argument("topic", help="topic name, e.g. vt.utrecht.intake.v1")
    tail.add_argument("-n", type=int, default=20, help="how many records (default: %(default)s)")
    dead = command("deadletters", "dead letters with consumer, time, original topic/partition@offset, reason and mark")
    dead.add_argument("--open", action="store_true", help="only those not marked handled")
    again = command("redrive", "send each dead letter's original record again, to the consumer that failed it only")
    again.add_argument("ids", nargs="*", metavar="ID", help="dead letter id (partition:offset, see deadletters)")
    again.add_argument("--all", action="store_true", help="every dead letter not marked handled")
    done = command("handled", "mark dead letters handled (kept in the data dir's ops.sqlite3)")
    done.add_argument("ids", nargs="+", metavar="ID", help="dead letter id (partition:offset, see deadletters)")
    done.add_argument("--by", default=os.environ.get("USER", "operator"), help="who handled it (default: $USER)")
    case = command("case", "the story of one case across topics, deliveries and audit records (metadata only)")
    case.add_argument("ident", metavar="REFERENCE_OR_CASE_ID", help="a melding's reference (VT..-....) or case id")
    replay = command("replay-outbox", "after a broker lost data: every intake publishes its outbox again")
    replay.add_argument("--since", help="ISO 8601 moment with time zone; default: every row")
    command("recover", "every service publishes its outbox again (done by itself after a broker loss)")
    command("quarantine", "outbox rows that can never be sent, with the reason (they block nothing)")
    return top


def main(argv: list[str] | None = None) -> None:
    top = parser()
    args = top.parse_args(argv)
    if args.command == "redrive" and not (args.ids or args.all):
        top.error("redrive needs dead letter ids or --all")
    # Into a file or a pipe a row stays one line, however long (grep finds a dead letter's whole row); a table no
    # wider than its content is not padded out to this width.
    out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else FILE_WIDTH)
    err = Console(stderr=True, soft_wrap=False, width=None if sys.stderr.isatty() else FILE_WIDTH)
    result = asyncio.run(run(args, err))
    out.print(result, markup=False, highlight=False) if isinstance(result, str) else out.print(result)


if __name__ == "__main__":
    main()
