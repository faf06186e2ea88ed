"""`python -m intake.replay DATABASE [--since ISO-TIME]`: after a broker lost its data (the embedded broker
keeps topics in memory; a cluster restored from an older backup), queue the outbox rows published since
then again. The running intake's relay publishes them within a poll interval, with the same event ids, so
consumers that did see them change nothing. Without --since every row is queued again."""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sys

from intake.store import ContactStore


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="intake.replay", description=__doc__)
    parser.add_argument("database", type=pathlib.Path, help="the intake's SQLite file ($VT_DATA_DIR/intake-<tenant>.sqlite3)")
    parser.add_argument("--since", type=dt.datetime.fromisoformat, default=dt.datetime.min.replace(tzinfo=dt.UTC),
                        help="re-publish rows sent at or after this moment (ISO 8601 with time zone)")
    args = parser.parse_args(argv)
    if not args.database.exists():
        sys.exit(f"{args.database} does not exist")
    if args.since.tzinfo is None:
        sys.exit("--since needs a time zone, e.g. 2026-11-22T10:00:00+01:00")
    store = ContactStore(args.database)
    try:
        count = store.mark_unsent(args.since.astimezone(dt.UTC))
    finally:
        store.close()
    print(f"{count} outbox rows queued again in {args.database}")


if __name__ == "__main__":
    main()
