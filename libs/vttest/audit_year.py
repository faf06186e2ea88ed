"""A year of access-log records, written before a service starts (tests/perf/bench_flat.py).

The records go through the service's own vtkit.audit.AuditLog (hash chain, signed checkpoints, witness), with the
service's signing key, so the file is one `python -m vtkit.audit verify` accepts. They are marked forwarded (the
forwarder's cursor `<file>.published` at the end of the file), as a year of records of a running service are: the
service starts on a long log with nothing left to copy. What is not like a real year: every record is written now
(`when`), and each is a "create" of one contact; the size of a record and the number of them are what matter here.
"""

from __future__ import annotations

import pathlib
import uuid

from vtkit.audit import AuditForwarder, AuditLog
from vtkit.keystore import KeyStore


def no_fsync(fd: int) -> None:
    """Durability does not matter while a test writes history; one fsync per record would take minutes."""


def write_year(path: pathlib.Path, service: str, keys: KeyStore, count: int, tenant: str = "national") -> int:
    """Append `count` records to the log at `path` as `service` and mark them forwarded; returns the file size."""
    before = count_records(path)
    log = AuditLog(path, service, signer=keys.audit_signer(service), fsync=no_fsync)
    for _ in range(count):
        log.append(action="create", what="SubmitMelding", subject={"contact_id": str(uuid.uuid4())}, tenant=tenant,
                   role="professional", purpose="melding", outcome="ok", peer="ipv4:127.0.0.1:40000")
    forwarder = AuditForwarder(path)
    size = path.stat().st_size if path.exists() else 0
    forwarder.cursor_path.write_text(f"{before + count} {size}")  # seq counts records from 1, one per line
    return size


def count_records(path: pathlib.Path) -> int:
    """Lines (records) in an access log; 0 when there is none."""
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())
