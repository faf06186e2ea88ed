"""Operator command: re-drive failed deliveries after fixing their cause.

    python -m notifier.redrive --list          # failed deliveries: key, kind, tenant, case, attempts, reason
    python -m notifier.redrive <key> [<key>..] # reset those to pending
    python -m notifier.redrive --all           # reset every failed delivery to pending

Works on $VT_DATA_DIR/notifier.sqlite3 (WAL: safe next to the running notifier). A reset delivery
keeps its idempotency key, gets a fresh attempt budget, and is sent by the running scheduler on its
next scan. The listing shows no personal data (ids, kinds and the receiver's status only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import sys

from notifier.store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifier.redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("keys", nargs="*", help="idempotency keys of failed deliveries")
    parser.add_argument("--list", action="store_true", help="list failed deliveries")
    parser.add_argument("--all", action="store_true", help="re-drive every failed delivery")
    args = parser.parse_args(argv)
    data_dir = os.environ.get("VT_DATA_DIR")
    if not data_dir:
        print("configuration error: VT_DATA_DIR is required", file=sys.stderr)
        return 2
    path = pathlib.Path(data_dir) / "notifier.sqlite3"
    if not path.exists():
        print(f"no notifier database at {path}", file=sys.stderr)
        return 2
    store = Store(path)
    try:
        if args.list or not (args.keys or args.all):
            for d in store.failed():
                print("\t".join([d.key, d.kind.value, d.tenant_id, d.case_id, str(d.attempts),
                                 d.last_error.replace("\n", " ")[:200]]))
            return 0
        keys = [d.key for d in store.failed()] if args.all else args.keys
        unknown = [k for k in keys if not store.failed(k)]
        count = store.redrive(keys, dt.datetime.now(dt.UTC))
        print(f"re-driven: {count}")
        for key in unknown:
            print(f"not a failed delivery: {key}", file=sys.stderr)
        return 1 if unknown else 0
    finally:
        store.close()


if __name__ == "__main__":
    raise SystemExit(main())
