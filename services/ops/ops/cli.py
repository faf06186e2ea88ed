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

from rich.console import Console
from rich.table import Table
from vtkit import topics
from vtkit.config import load_settings
from vtkit.kafka import KafkaSettings
from vtkit.outbox_store import quarantined, request_recovery

from ops.case_story import case_story
from ops.deadletters import HandledStore, dead_letter_row, redrive_rows
from ops.observer import Observer
from ops.reading import metadata, read_all, read_range, settings_of

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
    return await redrive_rows(settings_of(kafka), chosen, store)


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
