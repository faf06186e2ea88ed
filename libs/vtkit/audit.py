"""NEN 7513 access log: append-only, hash-chained JSON lines with signed checkpoints and a signed witness of its
head, one writer per log (docs/domain.md section 7; docs/architecture.md, "The access log").

Every record says what happened (`action` one of ACTIONS, plus a free-text `what`), when, about whom
(`subject`: a case id / contact id / person pseudonym / signal id, never a BSN or a name), by whom (`who`:
tenant, role, user (the acting worker a case system names on the call, bound to its organisation, else the
credential role@tenant), acting for whom (default: the tenant)), why (`purpose`), from where (`where`: service and
peer address) and the `outcome` ("denied" for a refused access, with the status in `detail`).

Each record carries `seq`, the previous record's hash (`prev`) and its own `hash`: SHA-256 over the canonical JSON
(sorted keys, no spaces) of the record without `hash` and `sig`. The first record names `checkpoint_every` (N):
every N-th record must carry `sig`, an Ed25519 signature (the service's own key, `audit/<service>.key` of the key
store) over its hash, which covers the whole chain before it. Editing a record and recomputing the chain therefore
needs the service's private key. Cutting lines off the end is caught by the witness: `<file>.witness`, a separate
append-only file (in production on other storage) of signed heads (seq, hash), written at every checkpoint and
after the forwarder has copied records to vt.national.audit.v1 (the second anchor; at most once per forwarding
interval); the log must still contain the last witnessed head. A torn last line after a crash is moved to
`<file>.torn` when the log is opened again.
Files are the owner's only (0600). Concurrent `record` calls share one write and one fsync (vtkit.groupcommit;
docs/architecture.md, "The access log"): each returns once its own record is on disk.

    python -m vtkit.audit verify FILE --key-dir DIR     OK <count> or the first tampered line; no keys: refused
    python -m vtkit.audit query ADDRESS --key-dir DIR   read a service's log as the inspector (audited there)
Reading is a query to the service that writes the log (vt.audit.v1.AuditService, vtkit.audit_query), so no
second process ever appends to a live log.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import math
import os
import pathlib
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from stdnum.nl import bsn as stdnum_bsn

from vtkit.auth import acting_user
from vtkit.groupcommit import GroupCommit

ACTIONS = ("create", "read", "update", "delete", "export", "search", "denied", "emergency")
GENESIS = "0" * 64
DEFAULT_CHECKPOINT_EVERY = 100
# The national inspector (vtkit.pki NATIONAL_ROLES) is the auditor: the only caller that may read an access log.
AUDITOR_ROLE = "inspector"

Publisher = Callable[[dict[str, Any]], Awaitable[None]]


# A UUID is matched first and kept whole: its hex groups hold 9-digit runs that pass the 11-proof by chance
# (about one case id in 60), and such an id withheld would make the access record name no case.
_UUID_OR_NINE_DIGITS = re.compile(r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
                                  r"|(?<!\d)\d{9}(?!\d)")
WITHHELD = "[BSN withheld]"


def _withheld(match: re.Match[str]) -> str:
    text = match.group()
    return WITHHELD if match.group("uuid") is None and stdnum_bsn.is_valid(text) else text


def withhold_bsns(subject: Mapping[str, Any]) -> dict[str, str]:
    """The subject with every valid BSN replaced: a subject is an id the caller named, and a caller that puts a
    BSN where a contact or case id belongs (seen in the scanner test) must not get it into the log in clear."""
    return {k: _UUID_OR_NINE_DIGITS.sub(_withheld, str(v)) for k, v in subject.items()}


def canonical(record: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in record.items() if k not in ("hash", "sig")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def _last_line(path: pathlib.Path) -> str | None:
    if not path.exists():
        return None
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        chunk = b""
        pos = end
        while pos > 0:
            step = min(4096, pos)
            pos -= step
            f.seek(pos)
            chunk = f.read(step) + chunk
            lines = chunk.rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or pos == 0:
                last = lines[-1].strip()
                return last.decode("utf-8") if last else None
    return None


@dataclass(frozen=True)
class _Entry:
    """A record's fields as the caller gave them; `seq`, `when`, `prev`, `hash` and `sig` are added when written."""
    fields: dict[str, Any]


class AuditLog:
    """One service's audit file, written by this object only. Thread-safe; `record` is the async entry point."""

    def __init__(self, path: str | pathlib.Path, service: str, *, signer: Ed25519PrivateKey | None = None,
                 checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY, publisher: Publisher | None = None,
                 witness_path: str | pathlib.Path | None = None, fsync: Callable[[int], None] = os.fsync):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.witness_path = pathlib.Path(witness_path) if witness_path else witness_of(self.path)
        self.service = service
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self.publisher = publisher
        self._fsync = fsync
        self._lock = threading.Lock()
        # Concurrent `record` calls share one write and one fsync (vtkit.groupcommit).
        self._group: GroupCommit[_Entry, dict[str, Any]] = GroupCommit(self._write_batch)
        for file in (self.path, self.witness_path):
            _owner_only(file)
        _repair_torn_tail(self.path)
        _repair_torn_tail(self.witness_path)
        last = _last_line(self.path)
        if last is None:
            self._seq, self._prev = 0, GENESIS
        else:
            tail = json.loads(last)
            self._seq, self._prev = int(tail["seq"]), str(tail["hash"])
        witnessed = _last_line(self.witness_path)
        self._witnessed = int(json.loads(witnessed)["seq"]) if witnessed else 0

    @property
    def waiting(self) -> int:
        """Records of `record` calls queued behind the write in progress (they go in the next one)."""
        return self._group.waiting

    def append(self, *, action: str, what: str, subject: Mapping[str, str], tenant: str, role: str,
               purpose: str, outcome: str, user: str = "", on_behalf_of: str = "", peer: str = "",
               detail: str = "") -> dict[str, Any]:
        """Write one record now, durable when this returns (tools and tests; services use `record`)."""
        entry = self.entry(action=action, what=what, subject=subject, tenant=tenant, role=role, purpose=purpose,
                            outcome=outcome, user=user, on_behalf_of=on_behalf_of, peer=peer, detail=detail)
        return self._write_batch([entry])[0]

    def write_entries(self, entries: Sequence[_Entry]) -> list[dict[str, Any]]:
        """Write entries made earlier (`entry`, in their callers' context) now, in one write and fsync: for a writer
        that commits them with what they are about, in its own worker thread (CommittedWith)."""
        return self._write_batch(entries)

    def entry(self, *, action: str, what: str, subject: Mapping[str, str], tenant: str, role: str,
               purpose: str, outcome: str, user: str = "", on_behalf_of: str = "", peer: str = "",
               detail: str = "", via: str = "") -> _Entry:
        """The record's own fields, before its place in the chain is known. Made in the caller's context, which
        names the acting worker (vtkit.auth.acting_user)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}; one of {ACTIONS}")
        # All four "by whom" parts are always present. A gRPC credential belongs to an organisation's system,
        # not a person: without a named user the credential itself (role@tenant) is the one who acted, for
        # its own organisation.
        who = {"tenant": tenant, "role": role, "user": user or acting_user() or f"{role}@{tenant}",
               "on_behalf_of": on_behalf_of or tenant}
        fields: dict[str, Any] = {"action": action, "what": what, "subject": withhold_bsns(subject), "who": who,
                                  "purpose": purpose or "not stated", "where": {"service": self.service, "peer": peer},
                                  "outcome": outcome}
        if via:  # relayed by another worker of the service (vtkit.auth.ON_BEHALF_HEADER): `peer` is that worker
            fields["where"]["via"] = via
        if detail:
            fields["detail"] = detail
        return _Entry(fields)

    def _write_batch(self, entries: Sequence[_Entry]) -> list[dict[str, Any]]:
        """Chain, sign and append the entries in one write and one fsync; then witness the first record and each
        checkpoint among them, as one record at a time would have. The head moves only once the lines are on disk."""
        with self._lock:
            records = self._chained(entries)
            _append_lines(self.path, [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in records], self._fsync)
            self._seq, self._prev = records[-1]["seq"], records[-1]["hash"]
            self._witness_heads([(r["seq"], r["hash"]) for r in records if "sig" in r or r["seq"] == 1])
        return records

    def _chained(self, entries: Sequence[_Entry]) -> list[dict[str, Any]]:
        seq, prev, records = self._seq, self._prev, []
        for entry in entries:
            seq += 1
            record: dict[str, Any] = {"seq": seq, **entry.fields, "when": dt.datetime.now(dt.UTC).isoformat(),
                                      "prev": prev}
            if seq == 1:
                record["checkpoint_every"] = self.checkpoint_every  # the verifier requires these checkpoints
            record["hash"] = prev = record_hash(record)
            if self.signer is not None and seq % self.checkpoint_every == 0:
                record["sig"] = self.signer.sign(bytes.fromhex(record["hash"])).hex()
            records.append(record)
        return records

    def witness(self) -> bool:
        """Write the current head (seq, hash, signed) to the witness file when it moved since the last one; the
        forwarder calls it after every pass, so at most that interval of records is not yet witnessed."""
        with self._lock:
            return self._witness_heads([(self._seq, self._prev)])

    def _witness_heads(self, heads: Sequence[tuple[int, str]]) -> bool:
        """Append the signed heads not yet witnessed (in one write and fsync). Call with the lock held."""
        heads = [(seq, head_hash) for seq, head_hash in heads if seq > self._witnessed]
        if self.signer is None or not heads:
            return False
        lines = []
        for seq, head_hash in heads:
            head = {"seq": seq, "hash": head_hash, "when": dt.datetime.now(dt.UTC).isoformat(), "service": self.service}
            head["sig"] = self.signer.sign(_head_bytes(seq, head_hash)).hex()
            lines.append(json.dumps(head, sort_keys=True))
        _append_lines(self.witness_path, lines, self._fsync)
        self._witnessed = heads[-1][0]
        return True

    async def record(self, **fields: Any) -> dict[str, Any]:
        written = await self._group.submit(self.entry(**fields))
        if self.publisher is not None:
            try:
                await self.publisher(written)
            except Exception:  # the file has it; the topic is a copy
                import logging
                logging.getLogger(__name__).warning("audit record not published", extra={"seq": written["seq"]})
        return written


@dataclass
class CommittedWith:
    """A request's access record written right after the commit of what it is about, in the same worker-thread batch
    (intake's group commit), instead of in a batch and worker-thread hop of its own after the request's commit: at a
    region's rate that hop was about a fifth of intake's CPU per melding (docs/measurements.md, "One intake's CPU per
    melding"). The record is still on disk before the answer leaves. `make` gives the entry for a subject; call
    `prepare` in the request's context (it names the acting worker), `written` is set once the record is on disk."""

    log: AuditLog
    make: Callable[[Mapping[str, str]], _Entry]
    entry: _Entry | None = None
    written: bool = False

    def prepare(self, subject: Mapping[str, str]) -> None:
        self.entry = self.make(subject)


def write_committed(accesses: Sequence[CommittedWith]) -> None:
    """Write the prepared records (one write and fsync per log), then mark them written. In the writer's thread."""
    by_log: dict[int, list[CommittedWith]] = {}
    for access in accesses:
        if access.entry is not None and not access.written:
            by_log.setdefault(id(access.log), []).append(access)
    for group in by_log.values():
        group[0].log.write_entries([a.entry for a in group if a.entry is not None])
        for access in group:
            access.written = True


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    checkpoints: int
    line: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"OK {self.count} records, {self.checkpoints} signed checkpoints verified"
        return f"TAMPERED at line {self.line}: {self.reason}"


class AuditKeys(Protocol):
    def audit_public(self, service: str) -> Ed25519PublicKey: ...


def verify(path: str | pathlib.Path, keys: AuditKeys, witness_path: str | pathlib.Path | None = None) -> Verdict:
    """Checks every line's exact form, the chain (seq, prev, hash), that every N-th record (N: the first record's
    `checkpoint_every`) carries a valid signature of the service that wrote it, and that the log still holds the
    last head its witness file signed (nothing cut off the end). Returns the first tampered line (1-based)."""
    prev, count, checkpoints, every, service = GENESIS, 0, 0, 0, ""
    hashes: dict[int, str] = {}
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                return Verdict(False, count, checkpoints, number, f"not a JSON record ({exc})")
            if line != json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n":
                # Every byte counts, the layout too: a record is written in exactly one form.
                return Verdict(False, count, checkpoints, number, "line is not in its written form")
            if record.get("seq") != count + 1:
                return Verdict(False, count, checkpoints, number,
                               f"sequence {record.get('seq')} where {count + 1} was expected (a record removed or inserted)")
            if record.get("prev") != prev:
                return Verdict(False, count, checkpoints, number, "previous-hash link broken")
            if record.get("hash") != record_hash(record):
                return Verdict(False, count, checkpoints, number, "content does not match its hash")
            if count == 0:
                every, service = int(record.get("checkpoint_every") or 0), str(record.get("where", {}).get("service"))
                if every < 1:
                    return Verdict(False, count, checkpoints, number, "the first record names no checkpoint interval")
            if record.get("where", {}).get("service") != service:
                return Verdict(False, count, checkpoints, number, "a record of another service in this log")
            if record["seq"] % every == 0 or "sig" in record:
                try:
                    keys.audit_public(service).verify(bytes.fromhex(str(record["sig"])), bytes.fromhex(record["hash"]))
                except KeyError:
                    return Verdict(False, count, checkpoints, number, "checkpoint signature missing")
                except (InvalidSignature, ValueError):
                    return Verdict(False, count, checkpoints, number, "checkpoint signature invalid")
                except FileNotFoundError:
                    return Verdict(False, count, checkpoints, number, f"no audit key of {service} to verify with")
                checkpoints += 1
            prev = hashes[record["seq"]] = record["hash"]
            count += 1
    return _check_witness(pathlib.Path(witness_path) if witness_path else witness_of(pathlib.Path(path)), keys,
                          hashes, service, Verdict(True, count, checkpoints))


def _check_witness(path: pathlib.Path, keys: AuditKeys, hashes: dict[int, str], service: str,
                   verdict: Verdict) -> Verdict:
    """The log must contain the last head the witness signed: a log cut short, or rewritten below it, fails."""
    heads = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    if not heads:
        if hashes:
            return Verdict(False, verdict.count, verdict.checkpoints, None, f"no witness file {path.name}: the log "
                           "cannot be shown complete")
        return verdict
    head = heads[-1]
    try:
        keys.audit_public(str(head.get("service") or service)).verify(
            bytes.fromhex(str(head["sig"])), _head_bytes(int(head["seq"]), str(head["hash"])))
    except (InvalidSignature, ValueError, KeyError, FileNotFoundError):
        return Verdict(False, verdict.count, verdict.checkpoints, None, "the witness's last head is not signed")
    if head.get("service") != service or hashes.get(int(head["seq"])) != head["hash"]:
        return Verdict(False, verdict.count, verdict.checkpoints, min(int(head["seq"]), verdict.count + 1),
                       f"the witness signed record {head['seq']} with another hash, or the log ends before it "
                       "(lines cut off or rewritten)")
    return verdict


def witness_of(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(path.name + ".witness")


def _head_bytes(seq: int, head_hash: str) -> bytes:
    return f"vt-audit-head:{seq}:{head_hash}".encode()


def _owner_only(path: pathlib.Path) -> None:
    """Create the file 0600 (or tighten an older one): access logs name who looked at what."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    path.chmod(0o600)


def _append_lines(path: pathlib.Path, lines: Sequence[str], fsync: Callable[[int], None] = os.fsync) -> None:
    """Append and fsync, through the file descriptor alone: a text-mode `open` added a buffered writer, a terminal check
    (ioctl) and a seek to every write, at one write per group commit in intake. Opened per write, not kept open: a
    log moved aside (a tool, an investigation) is not written to behind its new name."""
    data = memoryview("".join(line + "\n" for line in lines).encode("utf-8"))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        while data:  # a write to a regular file may be short (a full disk raises on the next one)
            data = data[os.write(fd, data):]
        # An access that happened must stay logged even if the machine crashes right after.
        fsync(fd)
    finally:
        os.close(fd)


def _repair_torn_tail(path: pathlib.Path) -> None:
    """A crash while writing leaves a last line without its newline (or half a JSON object): it is moved, as it
    is, to `<file>.torn` for the investigator and cut from the log, so the log goes on from its last whole record."""
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    with open(path.with_name(path.name + ".torn"), "ab") as torn:
        torn.write(data[cut:] + b"\n")
    with open(path, "r+b") as log:
        log.truncate(cut)
        os.fsync(log.fileno())
    import logging
    logging.getLogger(__name__).warning("torn last audit record moved aside", extra={"file": path.name,
                                                                                    "bytes": len(data) - cut})


# docs/domain.md section 7: what, when, about whom, by whom (user, role, organisation, acting for whom), why, from where, outcome.
NEN7513_FIELDS = ("action", "what", "when", "subject", "who.user", "who.role", "who.tenant", "who.on_behalf_of",
                  "purpose", "where.service", "where.peer", "outcome")


def missing_fields(record: Mapping[str, Any]) -> list[str]:
    """The NEN7513_FIELDS a record lacks or leaves empty (an empty subject counts as missing)."""
    missing = []
    for name in NEN7513_FIELDS:
        value: Any = record
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if not value or (isinstance(value, Mapping) and not any(value.values())):
            missing.append(name)
    return missing


def read(path: str | pathlib.Path) -> list[dict[str, Any]]:
    text = pathlib.Path(path).read_text(encoding="utf-8") if pathlib.Path(path).exists() else ""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def to_proto(record: Mapping[str, Any], line: str | None = None) -> Any:
    """The topic copy (vt.audit.v1.AuditRecord) of one file record; `line`: the record as read from the file (what
    AuditLog wrote: the same canonical JSON this would encode again), when at hand."""
    from vt.audit.v1 import events_pb2

    who, where = record.get("who", {}), record.get("where", {})
    return events_pb2.AuditRecord(
        seq=int(record["seq"]), action=record["action"], what=record.get("what", ""), when=record["when"],
        subject={k: str(v) for k, v in record.get("subject", {}).items()}, tenant=who.get("tenant", ""),
        role=who.get("role", ""), user=who.get("user", ""), on_behalf_of=who.get("on_behalf_of", ""),
        purpose=record.get("purpose", ""), service=where.get("service", ""), peer=where.get("peer", ""),
        outcome=record.get("outcome", ""), detail=record.get("detail", ""), prev_hash=record["prev"],
        hash=record["hash"], checkpoint_signature=record.get("sig", ""),
        line=json.dumps(record, sort_keys=True, ensure_ascii=False) if line is None else line)


class AuditForwarder:
    """Copies a service's audit file to topics.NATIONAL_AUDIT in the background, from the file: the request
    path never waits for the broker, and after an outage (or a restart) it continues after the last record
    the broker acknowledged. The records a pass read go as one Kafka record (vt.audit.v1.AuditRecords, keyed by the
    service, so a service's copies stay in order), or a few when they are many. At-least-once: a batch sent again
    has the same envelope id when it holds the same records, and a reader keeps each record (its hash) once.

    Its cost does not grow with the log: `<file>.published` holds the last forwarded seq and the byte offset after
    it (read at the first pass, then kept in memory: this forwarder is its only writer), each pass reads only from
    there, sends a batch of records and awaits the broker once, and writes the cursor once per batch (a cursor of an
    older version, a seq alone, is found by one scan). A pass that reads fewer than `batch` records has reached the
    end of the file: it does not read again (intake forwards after every relay pass, so at a region's rate each
    melding had paid for a second read)."""

    def __init__(self, path: str | pathlib.Path, publisher: Any = None, *, interval: float = 0.5,
                 log: AuditLog | None = None, batch: int = 500, clock: Callable[[], float] = time.monotonic):
        self.path = pathlib.Path(path)
        # The log whose head is witnessed after passes that copied records, at most once per `interval`: the topic
        # and the witness file then both anchor it (module docstring). Intake forwards after every relay pass, so
        # at a region's rate a witness per pass was a signature and an fsync per melding.
        self.log = log
        self.cursor_path = self.path.with_name(self.path.name + ".published")
        self.publisher = publisher  # vtkit.kafka.Publisher
        self.interval = interval
        self.batch = batch
        self._clock = clock
        self._position: tuple[int, int] | None = None  # the cursor as last read or written
        self._unwitnessed = False  # records were copied since the last witness
        self._witness_due = -math.inf
        self._passed_at = -math.inf  # when forward_pending last ran

    def due(self) -> bool:
        """At least `interval` since the last pass: for a caller that may call more often than the copy needs."""
        return self._clock() - self._passed_at >= self.interval

    def published_seq(self) -> int:
        return self._cursor()[0]

    def _cursor(self) -> tuple[int, int]:
        """(last forwarded seq, byte offset after it; -1 when unknown)."""
        if self._position is None:
            try:
                parts = self.cursor_path.read_text().split()
            except FileNotFoundError:
                parts = []
            seq = int(parts[0]) if parts else 0
            self._position = seq, int(parts[1]) if len(parts) > 1 else (0 if seq == 0 else -1)
        return self._position

    def _save_cursor(self, seq: int, offset: int) -> None:
        self.cursor_path.write_text(f"{seq} {offset}")
        self._position = seq, offset

    def _read_batch(self, seq: int, offset: int) -> tuple[list[tuple[dict[str, Any], str]], int]:
        """Up to `batch` whole records after `seq` (each with its line as written), from `offset` (found by a scan
        when unknown or past the end), and the offset after the last one read."""
        if not self.path.exists():
            return [], 0
        if offset < 0 or offset > self.path.stat().st_size:
            offset = 0  # an older cursor, or a file that is not the one the cursor was written for: scan by seq
        records: list[tuple[dict[str, Any], str]] = []
        with open(self.path, "rb") as f:
            f.seek(offset)
            for raw in f:
                if not raw.endswith(b"\n"):
                    break  # a record still being written: the next pass takes it
                offset += len(raw)
                if not raw.strip():
                    continue
                record = json.loads(raw)
                if record["seq"] > seq:
                    records.append((record, raw.decode().strip()))
                    if len(records) >= self.batch:
                        break
        return records, offset

    async def forward_pending(self, publisher: Any = None) -> int:
        """Publish every record after the cursor (with `publisher`, or the one given at construction)."""
        import uuid

        from vt.audit.v1 import events_pb2

        from vtkit import topics
        from vtkit.envelope import envelope_for

        sent = 0
        self._passed_at = self._clock()
        while True:
            done, offset = self._cursor()
            records, offset = await asyncio.to_thread(self._read_batch, done, offset)
            if not records:
                if offset != self._cursor()[1]:
                    self._save_cursor(done, offset)  # an older cursor gets its offset
                break
            items = []
            for chunk in copy_batches([to_proto(record, line) for record, line in records]):  # each line as written
                copies = events_pb2.AuditRecords(records=chunk)
                # The same records give the same id (a batch sent again after a crash); a reader keeps each record once.
                service = chunk[0].service  # one file, one service
                envelope = envelope_for(copies, source=f"audit/{service}", event_id=str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"vt-audit:{chunk[0].hash}:{chunk[-1].hash}")))
                items.append((topics.NATIONAL_AUDIT, service, copies, envelope))
            await (publisher or self.publisher).publish_batch(items)
            self._save_cursor(records[-1][0]["seq"], offset)
            sent += len(records)
            if len(records) < self.batch:
                break  # the end of the file: what is written meanwhile goes with the next pass
        self._unwitnessed = self._unwitnessed or sent > 0
        if self._clock() >= self._witness_due:
            await self.witness()
        return sent

    async def witness(self) -> None:
        """Witness the log's head now if records were copied since the last witness (forward_pending when the
        interval has passed; the service at a clean stop, so no copied record stays unwitnessed)."""
        if self._unwitnessed and self.log is not None:
            await asyncio.to_thread(self.log.witness)
            self._unwitnessed = False
            self._witness_due = self._clock() + self.interval

    async def run(self, stop: asyncio.Event) -> None:
        """Forward every `interval` until `stop`, then once more (the last records of this run)."""
        import contextlib
        import logging

        while True:
            try:
                await self.forward_pending()
            except Exception as exc:  # broker down: the file keeps everything; try again later
                logging.getLogger(__name__).warning("audit records not forwarded yet", extra={"reason": repr(exc)})
            if stop.is_set():
                await self.witness()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)


# A batch of copies stays well under what every consumer takes (vtkit.envelope.MAX_VALUE_BYTES, 512 KiB).
COPIES_MAX_BYTES = 256 * 1024


def copy_batches(copies: Sequence[Any]) -> list[list[Any]]:
    """The copies in order, in runs of at most COPIES_MAX_BYTES (a record over it alone)."""
    chunks: list[list[Any]] = [[]]
    size = 0
    for copy in copies:
        length = copy.ByteSize() + 8  # the field's tag and length
        if chunks[-1] and size + length > COPIES_MAX_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(copy)
        size += length
    return chunks


def unpack_copies(values: Iterable[bytes]) -> list[Any]:
    """The access records (vt.audit.v1.AuditRecord) in values of vt.national.audit.v1 records, each once (by its hash:
    two workers of one service keep a log each, with the same service name and seqs), in the order read: a batch sent
    again is read once."""
    from vt.audit.v1 import events_pb2

    found: dict[str, Any] = {}
    for value in values:
        for copy in events_pb2.AuditRecords.FromString(value).records:
            found.setdefault(copy.hash, copy)
    return list(found.values())


def read_after(path: str | pathlib.Path, after_seq: int, limit: int) -> tuple[list[str], int]:
    """Up to `limit` lines (as written) of records after `after_seq`, and the log's last seq now."""
    lines: list[str] = []
    last = 0
    file = pathlib.Path(path)
    for line in (file.read_text(encoding="utf-8").splitlines() if file.exists() else []):
        if not line.strip():
            continue
        seq = int(json.loads(line)["seq"])
        last = seq
        if seq > after_seq and len(lines) < limit:
            lines.append(line)
    return lines, last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vtkit.audit", description="NEN 7513 access logs")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check the hash chain, the required checkpoint signatures and the witness")
    v.add_argument("file")
    v.add_argument("--key-dir", default=os.environ.get("VT_KEY_DIR"), help="where the services' audit keys are")
    v.add_argument("--witness", default=None, help="the witness file (default: FILE.witness)")
    q = sub.add_parser("query", help="read a service's log as the inspector (the service records the reading)")
    q.add_argument("address", help="the service's gRPC address, e.g. 127.0.0.1:50061")
    q.add_argument("--key-dir", default=os.environ.get("VT_KEY_DIR"))
    q.add_argument("--purpose", required=True, help="why the log is read (recorded)")
    q.add_argument("--after", type=int, default=0, help="records after this sequence number")
    sub.add_parser("show", help="replaced by `query`: a second process never appends to a live log")
    args = parser.parse_args(argv)
    if args.command == "show":
        print("`show` is replaced by `query ADDRESS --purpose ...`: the service that writes a log answers reads of it "
              "/ gebruik `query`", file=sys.stderr)
        return 2
    if not args.key_dir:
        # One line, never a traceback.
        print("no key directory: give --key-dir or VT_KEY_DIR / geen sleutelmap", file=sys.stderr)
        return 2
    from vtkit.keystore import KeyStore

    keys = KeyStore(args.key_dir)
    if args.command == "query":
        from vtkit.audit_query import read_log

        reply = asyncio.run(read_log(args.address, keys, args.purpose, args.after))
        for line in reply.lines:
            print(line)
        return 0
    if not pathlib.Path(args.file).is_file():
        print(f"no audit log at {args.file} / geen auditlog op {args.file}", file=sys.stderr)
        return 2
    verdict = verify(args.file, keys, args.witness)
    print(str(verdict))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
