"""NEN 7513 access log: append-only, hash-chained JSON lines with signed checkpoints (domain.md 7).

Every record says what happened (`action` one of ACTIONS, plus a free-text `what`), when, about whom
(`subject`: a case id / contact id / person pseudonym / signal id, never a BSN or a name), by whom (`who`:
tenant, role, user (the credential role@tenant when no person is named), acting for whom (default: the
tenant)), why (`purpose`), from where (`where`: service and peer address) and the `outcome`
("denied" for a refused access, with the status in `detail`).

Each record carries `seq`, the previous record's hash (`prev`) and its own `hash`: SHA-256 over the
canonical JSON (sorted keys, no spaces) of the record without `hash` and `sig`. Every `checkpoint_every`
records, the record also carries `sig`: an Ed25519 signature (key `audit.key` of the key store) over its
hash, which covers the whole chain before it. The file is written (and fsynced) first; an optional
publisher hook then receives the record (topics.NATIONAL_AUDIT), so a broker outage never loses one.

    python -m vtkit.audit verify FILE [--key-dir DIR]         OK <count> or the first tampered line
    python -m vtkit.audit show FILE --role auditor [--key-dir DIR] [--tenant T] [--user U]
`show` is refused for any role but auditor, and both the refusal and the reading are logged in FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import pathlib
import re
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from stdnum.nl import bsn as stdnum_bsn

ACTIONS = ("create", "read", "update", "delete", "export", "search", "denied", "emergency")
GENESIS = "0" * 64
DEFAULT_CHECKPOINT_EVERY = 100
AUDITOR_ROLE = "auditor"

Publisher = Callable[[dict[str, Any]], Awaitable[None]]


_NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")
WITHHELD = "[BSN withheld]"


def withhold_bsns(subject: Mapping[str, Any]) -> dict[str, str]:
    """The subject with every valid BSN replaced: a subject is an id the caller named, and a caller that puts a
    BSN where a contact or case id belongs (seen in the scanner test) must not get it into the log in clear."""
    return {k: _NINE_DIGITS.sub(lambda m: WITHHELD if stdnum_bsn.is_valid(m.group()) else m.group(), str(v))
            for k, v in subject.items()}


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


class AuditLog:
    """One service's audit file. Thread-safe; `record` is the async entry point."""

    def __init__(self, path: str | pathlib.Path, service: str, *, signer: Ed25519PrivateKey | None = None,
                 checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY, publisher: Publisher | None = None):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.service = service
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self.publisher = publisher
        self._lock = threading.Lock()
        last = _last_line(self.path)
        if last is None:
            self._seq, self._prev = 0, GENESIS
        else:
            tail = json.loads(last)
            self._seq, self._prev = int(tail["seq"]), str(tail["hash"])

    def append(self, *, action: str, what: str, subject: Mapping[str, str], tenant: str, role: str,
               purpose: str, outcome: str, user: str = "", on_behalf_of: str = "", peer: str = "",
               detail: str = "") -> dict[str, Any]:
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}; one of {ACTIONS}")
        # All four "by whom" parts are always present. A gRPC credential belongs to an organisation's system,
        # not a person: without a named user the credential itself (role@tenant) is the one who acted, for
        # its own organisation.
        who = {"tenant": tenant, "role": role, "user": user or f"{role}@{tenant}",
               "on_behalf_of": on_behalf_of or tenant}
        with self._lock:
            record: dict[str, Any] = {
                "seq": self._seq + 1, "action": action, "what": what,
                "when": dt.datetime.now(dt.UTC).isoformat(), "subject": withhold_bsns(subject), "who": who,
                "purpose": purpose or "not stated", "where": {"service": self.service, "peer": peer},
                "outcome": outcome, "prev": self._prev,
            }
            if detail:
                record["detail"] = detail
            record["hash"] = record_hash(record)
            if self.signer is not None and record["seq"] % self.checkpoint_every == 0:
                record["sig"] = self.signer.sign(bytes.fromhex(record["hash"])).hex()
            line = json.dumps(record, sort_keys=True, ensure_ascii=False)
            with open(self.path, "a", encoding="utf-8") as log:
                log.write(line + "\n")
                log.flush()
                # An access that happened must stay logged even if the machine crashes right after.
                os.fsync(log.fileno())
            self._seq, self._prev = record["seq"], record["hash"]
        return record

    async def record(self, **fields: Any) -> dict[str, Any]:
        written = await asyncio.to_thread(lambda: self.append(**fields))
        if self.publisher is not None:
            try:
                await self.publisher(written)
            except Exception:  # the file has it; the topic is a copy
                import logging
                logging.getLogger(__name__).warning("audit record not published", extra={"seq": written["seq"]})
        return written


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


def verify(path: str | pathlib.Path, public_key: Ed25519PublicKey | None = None) -> Verdict:
    """Checks every line's exact form, the chain (seq, prev, hash) and, given the public key, every
    checkpoint signature. Returns the first tampered line (1-based)."""
    prev, count, checkpoints = GENESIS, 0, 0
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
            if "sig" in record and public_key is not None:
                try:
                    public_key.verify(bytes.fromhex(str(record["sig"])), bytes.fromhex(record["hash"]))
                except (InvalidSignature, ValueError):
                    return Verdict(False, count, checkpoints, number, "checkpoint signature invalid")
                checkpoints += 1
            prev = record["hash"]
            count += 1
    return Verdict(True, count, checkpoints)


# domain.md 7: what, when, about whom, by whom (user, role, organisation, acting for whom), why, from where, outcome.
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


def to_proto(record: Mapping[str, Any]) -> Any:
    """The topic copy (vt.audit.v1.AuditRecord) of one file record."""
    from vt.audit.v1 import events_pb2

    who, where = record.get("who", {}), record.get("where", {})
    return events_pb2.AuditRecord(
        seq=int(record["seq"]), action=record["action"], what=record.get("what", ""), when=record["when"],
        subject={k: str(v) for k, v in record.get("subject", {}).items()}, tenant=who.get("tenant", ""),
        role=who.get("role", ""), user=who.get("user", ""), on_behalf_of=who.get("on_behalf_of", ""),
        purpose=record.get("purpose", ""), service=where.get("service", ""), peer=where.get("peer", ""),
        outcome=record.get("outcome", ""), detail=record.get("detail", ""), prev_hash=record["prev"],
        hash=record["hash"], checkpoint_signature=record.get("sig", ""),
        line=json.dumps(record, sort_keys=True, ensure_ascii=False))


class AuditForwarder:
    """Copies a service's audit file to topics.NATIONAL_AUDIT in the background, from the file: the request
    path never waits for the broker, and after an outage (or a restart) it continues after the last record
    the broker acknowledged (`<file>.published` holds its seq). At-least-once; the envelope id is derived
    from the record hash, so consumers dedupe a re-sent record."""

    def __init__(self, path: str | pathlib.Path, publisher: Any = None, *, interval: float = 0.5):
        self.path = pathlib.Path(path)
        self.cursor_path = self.path.with_name(self.path.name + ".published")
        self.publisher = publisher  # vtkit.kafka.Publisher
        self.interval = interval

    def published_seq(self) -> int:
        try:
            return int(self.cursor_path.read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    async def forward_pending(self, publisher: Any = None) -> int:
        """Publish every record after the cursor (with `publisher`, or the one given at construction)."""
        import uuid

        from vtkit import topics
        from vtkit.envelope import envelope_for

        done, sent = self.published_seq(), 0
        for record in await asyncio.to_thread(read, self.path):
            if record["seq"] <= done:
                continue
            message = to_proto(record)
            envelope = envelope_for(message, source=f"audit/{message.service}", tenant=message.tenant,
                                    event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"vt-audit:{record['hash']}")))
            await (publisher or self.publisher).publish(topics.NATIONAL_AUDIT, f"{message.service}:{record['seq']}", message,
                                         envelope)
            done, sent = record["seq"], sent + 1
            self.cursor_path.write_text(str(done))
        return sent

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
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)


def _signer_from(key_dir: str | None) -> Ed25519PrivateKey | None:
    if not key_dir:
        return None
    from vtkit.keystore import KeyStore
    return KeyStore(key_dir).audit_signer()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vtkit.audit")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check the hash chain and checkpoint signatures")
    v.add_argument("file")
    v.add_argument("--key-dir", default=os.environ.get("VT_KEY_DIR"))
    s = sub.add_parser("show", help="print the log (auditor only; the reading is logged)")
    s.add_argument("file")
    s.add_argument("--role", required=True)
    s.add_argument("--tenant", default="national")
    s.add_argument("--user", default=os.environ.get("USER", ""))
    s.add_argument("--purpose", default="audit")
    s.add_argument("--key-dir", default=os.environ.get("VT_KEY_DIR"))
    args = parser.parse_args(argv)
    if not pathlib.Path(args.file).is_file():
        # One line, never a traceback, and never a new log where none was (reading must not create one).
        print(f"no audit log at {args.file} / geen auditlog op {args.file}", file=sys.stderr)
        return 2

    if args.command == "verify":
        from vtkit.keystore import KeyStore
        public = KeyStore(args.key_dir).audit_public() if args.key_dir else None
        verdict = verify(args.file, public)
        suffix = "" if public else " (signatures not checked: no --key-dir / VT_KEY_DIR)"
        print(str(verdict) + (suffix if verdict.ok else ""))
        return 0 if verdict.ok else 1

    signer = _signer_from(args.key_dir)
    log = AuditLog(args.file, "vtkit.audit-cli", signer=signer)
    subject = {"audit_log": pathlib.Path(args.file).name}
    if args.role != AUDITOR_ROLE:
        log.append(action="denied", what="read audit log", subject=subject, tenant=args.tenant, role=args.role,
                   user=args.user, purpose=args.purpose, outcome="denied", peer="local", detail="permission_denied")
        print("refused: the audit log is for the auditor role only", file=sys.stderr)
        return 2
    records = read(args.file)
    log.append(action="read", what="read audit log", subject=subject, tenant=args.tenant, role=args.role,
               user=args.user, purpose=args.purpose, outcome="success", peer="local")
    for record in records:
        print(json.dumps(record, sort_keys=True, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
