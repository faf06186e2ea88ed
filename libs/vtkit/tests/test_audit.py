"""vtkit.audit: the hash chain, required checkpoints, the witness, the verifier, and reading as a query the log's
service answers for the inspector only, itself audited."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import subprocess
import sys
import threading
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from vt.audit.v1 import audit_service_pb2, audit_service_pb2_grpc
from vtkit import audit, auth
from vtkit.audit_query import read_log, serve_audit_log
from vtkit.channels import client_channel
from vtkit.grpcserver import GrpcServer
from vtkit.keystore import KeyStore, init_keys

N = 25
SERVICE = "radar"  # a service with its own audit key in the key store


@pytest.fixture()
def keys(tmp_path: pathlib.Path) -> KeyStore:
    return init_keys(tmp_path / "keys")


def write_log(path: pathlib.Path, keys: KeyStore, n: int = N, every: int = 5) -> None:
    log = audit.AuditLog(path, SERVICE, signer=keys.audit_signer(SERVICE), checkpoint_every=every)
    for i in range(n):
        log.append(action="read", what="read contact", subject={"contact_id": f"c-{i}"}, tenant="utrecht",
                   role="region", purpose="triage", outcome="success", peer="ipv4:127.0.0.1:5000", user="u1")


def test_clean_log_verifies_with_its_checkpoints_and_continues_after_reopen(tmp_path: pathlib.Path,
                                                                            keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys, 12)
    write_log(path, keys, 13)  # a restarted service continues the chain
    verdict = audit.verify(path, keys)
    assert verdict.ok and verdict.count == N and verdict.checkpoints == 5, verdict
    first = audit.read(path)[0]
    assert first["prev"] == audit.GENESIS and first["who"] == {"tenant": "utrecht", "role": "region", "user": "u1",
                                                                  "on_behalf_of": "utrecht"}
    assert first["where"] == {"service": SERVICE, "peer": "ipv4:127.0.0.1:5000"} and first["action"] == "read"
    assert first["checkpoint_every"] == 5


def test_one_edited_byte_in_any_record_is_reported_at_its_line(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys)
    original = path.read_bytes()
    lines = original.split(b"\n")
    starts = [sum(len(line) + 1 for line in lines[:i]) for i in range(N)]
    for number in range(1, N + 1):
        for offset in (0, 7, len(lines[number - 1]) // 2, len(lines[number - 1]) - 1, len(lines[number - 1])):
            data = bytearray(original)
            position = starts[number - 1] + offset
            data[position] = data[position] ^ 0x01
            path.write_bytes(bytes(data))
            verdict = audit.verify(path, keys)
            assert not verdict.ok and verdict.line == number, (number, offset, verdict)


def test_removed_and_reordered_lines_are_detected(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:10] + lines[11:]))
    verdict = audit.verify(path, keys)
    assert not verdict.ok and verdict.line == 11
    path.write_text("".join(lines[1:]))
    assert audit.verify(path, keys).line == 1
    path.write_text("".join(lines[:3] + [lines[4], lines[3]] + lines[5:]))
    assert audit.verify(path, keys).line == 4


def test_forged_checkpoint_is_detected(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys)
    records = audit.read(path)
    # Rewrite record 10 and everything after it with a consistent chain, signed with another key.
    forger = Ed25519PrivateKey.generate()
    records[9]["purpose"] = "curiosity"
    prev = records[8]["hash"]
    for record in records[9:]:
        record["prev"] = prev
        record["hash"] = audit.record_hash(record)
        if "sig" in record:
            record["sig"] = forger.sign(bytes.fromhex(record["hash"])).hex()
        prev = record["hash"]
    path.write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in records))
    verdict = audit.verify(path, keys)  # the chain alone cannot tell: that is what the signatures are for
    assert not verdict.ok and verdict.line == 10 and "signature" in verdict.reason


def test_publisher_gets_every_record_after_the_file_and_an_outage_loses_nothing(tmp_path: pathlib.Path,
                                                                                  keys: KeyStore) -> None:
    published: list[dict[str, object]] = []

    async def publish(record: dict[str, object]) -> None:
        if record["seq"] == 2:
            raise ConnectionError("broker down")
        published.append(record)

    log = audit.AuditLog(tmp_path / "a.jsonl", SERVICE, signer=keys.audit_signer(SERVICE), publisher=publish)

    async def run() -> None:
        for action in ("create", "read", "denied"):
            await log.record(action=action, what=action, subject={"case_id": "k"}, tenant="t", role="region",
                             purpose="p", outcome="denied" if action == "denied" else "success")

    asyncio.run(run())
    assert [r["seq"] for r in published] == [1, 3]
    assert audit.verify(tmp_path / "a.jsonl", keys).count == 3
    with pytest.raises(ValueError):
        log.append(action="peek", what="x", subject={}, tenant="t", role="r", purpose="p", outcome="success")


def test_dropped_checkpoint_signatures_are_tampering(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    """An insider edits record 10 and recomputes the chain from there, dropping the signatures they cannot make:
    every 5th record must carry one."""
    path = tmp_path / "a.jsonl"
    write_log(path, keys)
    records = audit.read(path)
    records[9]["purpose"] = "curiosity"
    prev = records[8]["hash"]
    for record in records[9:]:
        record.pop("sig", None)
        record["prev"] = prev
        record["hash"] = audit.record_hash(record)
        prev = record["hash"]
    path.write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in records))
    verdict = audit.verify(path, keys)
    assert not verdict.ok and verdict.line == 10 and verdict.reason == "checkpoint signature missing"


def test_lines_cut_off_the_end_are_caught_by_the_witness(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys, 23)  # checkpoints (and witnessed heads) at 5, 10, 15, 20
    log = audit.AuditLog(path, SERVICE, signer=keys.audit_signer(SERVICE), checkpoint_every=5)
    assert log.witness() and not log.witness()  # the forwarder's pass: head 23 witnessed, once
    whole = path.read_text().splitlines(keepends=True)
    assert audit.verify(path, keys).ok
    path.write_text("".join(whole[:21]))  # the last two records cut off: the chain alone is still fine
    verdict = audit.verify(path, keys)
    assert not verdict.ok and "cut off or rewritten" in verdict.reason
    path.write_text("")
    assert not audit.verify(path, keys).ok
    path.write_text("".join(whole))
    audit.witness_of(path).unlink()  # and the witness itself removed
    assert "no witness" in audit.verify(path, keys).reason


def test_another_services_key_cannot_sign_this_log(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    log = audit.AuditLog(path, SERVICE, signer=keys.audit_signer("notifier"), checkpoint_every=2)
    for i in range(2):
        log.append(action="read", what="x", subject={"case_id": f"c{i}"}, tenant="utrecht", role="region",
                   purpose="p", outcome="success")
    verdict = audit.verify(path, keys)
    assert not verdict.ok and verdict.line == 2 and "signature invalid" in verdict.reason


def test_a_torn_last_line_is_moved_aside_and_the_log_goes_on(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys, 3)
    with open(path, "a") as log_file:
        log_file.write('{"seq": 4, "action": "re')  # the machine died while writing
    write_log(path, keys, 2)
    assert audit.verify(path, keys).ok and audit.verify(path, keys).count == 5
    assert (tmp_path / "a.jsonl.torn").read_text() == '{"seq": 4, "action": "re\n'


def test_log_and_witness_are_the_owners_only(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys, 1)
    assert path.stat().st_mode & 0o777 == 0o600 and audit.witness_of(path).stat().st_mode & 0o777 == 0o600


def test_the_worker_a_case_system_names_is_the_user_in_the_record(tmp_path: pathlib.Path) -> None:
    log = audit.AuditLog(tmp_path / "a.jsonl", SERVICE)
    token = auth._caller.set(auth.Caller("utrecht", "region", "w-1042", "casemanager"))
    try:
        record = log.append(action="read", what="read contact", subject={"contact_id": "c"}, tenant="utrecht",
                            role="region", purpose="triage", outcome="success")
    finally:
        auth._caller.reset(token)
    assert record["who"]["user"] == "w-1042/casemanager@utrecht"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vtkit.audit", *args], capture_output=True, text=True, timeout=60)


async def test_reading_a_log_is_a_query_the_service_answers_for_the_inspector_only(
        tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "audit-radar.jsonl"
    log = audit.AuditLog(path, SERVICE, signer=keys.audit_signer(SERVICE), checkpoint_every=5)
    for i in range(7):
        log.append(action="read", what="read case", subject={"case_id": f"c-{i}"}, tenant="utrecht", role="region",
                   purpose="triage", outcome="success", peer="ipv4:127.0.0.1:1")
    server = GrpcServer(0, keys, "radar")
    serve_audit_log(server, log)
    await server.start()
    try:
        reply = await read_log(server.address, keys, "jaarlijkse controle", after_seq=2)
        assert [json.loads(line)["seq"] for line in reply.lines] == [3, 4, 5, 6, 7] and reply.last_seq == 7
        async with client_channel(server.address, keys, "utrecht") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await audit_service_pb2_grpc.AuditServiceStub(channel).ReadLog(
                    audit_service_pb2.ReadLogRequest(purpose="nieuwsgierig"), metadata=auth.user_metadata("w-7"))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        shown = await asyncio.to_thread(cli, "query", server.address, "--key-dir", str(keys.root), "--purpose", "x")
        assert shown.returncode == 0 and len(shown.stdout.splitlines()) == 9, shown
    finally:
        await server.stop(0)
    records = audit.read(path)  # written by the log's one writer: the service that serves the query
    assert [(r["action"], r["who"]["tenant"], r["who"]["role"], r["who"]["user"]) for r in records[7:]] == [
        ("read", "national", "inspector", "inspector@national"), ("denied", "utrecht", "region", "w-7@utrecht"),
        ("read", "national", "inspector", "inspector@national")]
    assert audit.verify(path, keys).ok


def test_verify_refuses_without_keys_and_show_is_gone(tmp_path: pathlib.Path, keys: KeyStore,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys, 7)
    assert cli("verify", str(path), "--key-dir", str(keys.root)).stdout.startswith("OK 7 records")
    monkeypatch.delenv("VT_KEY_DIR", raising=False)
    refused = subprocess.run([sys.executable, "-m", "vtkit.audit", "verify", str(path)], capture_output=True,
                             text=True, timeout=60, env={k: v for k, v in os.environ.items() if k != "VT_KEY_DIR"})
    assert refused.returncode == 2 and "no key directory" in refused.stderr and "Traceback" not in refused.stderr
    gone = cli("show", str(path))
    assert gone.returncode == 2 and "query" in gone.stderr
    lines = path.read_text().splitlines(keepends=True)
    lines[4] = lines[4].replace('"triage"', '"triagE"')
    path.write_text("".join(lines))
    tampered = cli("verify", str(path), "--key-dir", str(keys.root))
    assert tampered.returncode == 1 and "line 5" in tampered.stdout


def test_a_bsn_named_as_subject_is_withheld_and_every_nen7513_field_is_present(tmp_path: pathlib.Path) -> None:
    log = audit.AuditLog(tmp_path / "a.jsonl", "test")
    record = log.append(action="denied", what="read contact", subject={"contact_id": "111222333", "case_id": "c-123456789"},
                        tenant="utrecht", role="region", purpose="triage", outcome="denied", peer="ipv4:127.0.0.1:1")
    # 111222333 passes the 11-proof; 123456789 does not and is kept (a case id may contain digits).
    assert record["subject"] == {"contact_id": audit.WITHHELD, "case_id": "c-123456789"}
    assert "111222333" not in (tmp_path / "a.jsonl").read_text()
    assert audit.missing_fields(record) == []
    assert record["who"] == {"tenant": "utrecht", "role": "region", "user": "region@utrecht", "on_behalf_of": "utrecht"}
    # A case id in UUID form is kept whole, though its last group holds a run that passes the 11-proof (264766696).
    case_id = "case-28243e34-845e-4619-88f3-fda264766696"
    assert audit.withhold_bsns({"case_id": case_id, "contact_id": "bsn 111222333"}) == {
        "case_id": case_id, "contact_id": f"bsn {audit.WITHHELD}"}
    incomplete = {**record, "purpose": "", "where": {"service": SERVICE, "peer": ""}, "subject": {"case_id": ""}}
    assert audit.missing_fields(incomplete) == ["subject", "purpose", "where.peer"]


def test_the_cli_on_a_missing_log_says_so_in_one_line_and_creates_nothing(
        tmp_path: pathlib.Path, keys: KeyStore, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "audit-nowhere.jsonl"
    assert audit.main(["verify", str(missing), "--key-dir", str(keys.root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no audit log at" in err and "Traceback" not in err
    assert not missing.exists()


class Batches:
    """Records what the forwarder hands the publisher, batch by batch (the broker itself: test_audit_forwarding)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.lines: list[str] = []

    async def publish_batch(self, items: list[tuple[str, str, Any, Any]]) -> None:
        self.batches.append([copy.seq for _, _, message, _ in items for copy in message.records])
        self.lines += [copy.line for _, _, message, _ in items for copy in message.records]
        self.keys = {key for _, key, _, _ in items}


def test_the_forwarder_reads_from_its_offset_sends_in_batches_and_writes_its_cursor_once_per_batch(
        tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys, 12)
    sink = Batches()
    forwarder = audit.AuditForwarder(path, sink, batch=5)
    assert asyncio.run(forwarder.forward_pending()) == 12
    assert sink.batches == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]
    assert sink.keys == {SERVICE}  # keyed by the service: its copies stay in order, in one partition
    assert forwarder.cursor_path.read_text() == f"12 {path.stat().st_size}"
    assert "".join(line + "\n" for line in sink.lines) == path.read_text()  # each copy names its line as written
    # A record being written (no newline yet) waits for the next pass; then only the new bytes are read.
    with open(path, "a") as log_file:
        log_file.write('{"seq": 13')
    assert asyncio.run(forwarder.forward_pending()) == 0
    path.write_text(path.read_text().rsplit("\n", 1)[0] + "\n")
    write_log(path, keys, 2)
    assert asyncio.run(forwarder.forward_pending()) == 2 and sink.batches[-1] == [13, 14]
    # An older cursor (the seq alone), as a forwarder of this version finds it at its first start, is found by one
    # scan and gets its offset.
    forwarder.cursor_path.write_text("14")
    upgraded = audit.AuditForwarder(path, sink, batch=5)
    assert asyncio.run(upgraded.forward_pending()) == 0
    assert upgraded.cursor_path.read_text() == f"14 {path.stat().st_size}"
    assert len(sink.batches) == 4  # nothing sent again


def test_the_forwarder_witnesses_the_head_at_most_once_per_interval_and_never_leaves_it_unwitnessed(
        tmp_path: pathlib.Path, keys: KeyStore) -> None:
    """Intake forwards after every relay pass (a melding each, at a region's rate): a witness per pass was a signature
    and an fsync per melding. Copied records still get their witness, at the first pass after the interval or when
    the service stops."""
    path, now = tmp_path / "a.jsonl", [100.0]
    log = audit.AuditLog(path, SERVICE, signer=keys.audit_signer(SERVICE), checkpoint_every=1000)
    forwarder = audit.AuditForwarder(path, Batches(), log=log, interval=0.5, clock=lambda: now[0])

    def record_and_forward() -> int:
        log.append(action="read", what="x", subject={"case_id": "c"}, tenant="utrecht", role="region", purpose="p",
                   outcome="success")
        return asyncio.run(forwarder.forward_pending())

    def heads() -> list[int]:
        return [json.loads(line)["seq"] for line in audit.witness_of(path).read_text().splitlines()]

    assert [record_and_forward() for _ in range(3)] == [1, 1, 1]
    assert heads() == [1]  # the first record (the log's own) and the first pass: head 1, once; 2 and 3 wait
    now[0] += 0.5
    assert asyncio.run(forwarder.forward_pending()) == 0 and heads() == [1, 3]  # due: a pass without new records
    assert asyncio.run(forwarder.forward_pending()) == 0 and heads() == [1, 3]  # nothing new to witness
    now[0] += 10
    assert asyncio.run(forwarder.forward_pending()) == 0 and heads() == [1, 3]
    assert record_and_forward() == 1 and heads() == [1, 3, 4]  # due long ago: at once
    assert record_and_forward() == 1 and heads() == [1, 3, 4]

    async def stopping() -> None:  # a service stopping: the forwarder's last pass witnesses what it copied
        stop = asyncio.Event()
        stop.set()
        await forwarder.run(stop)

    asyncio.run(stopping())
    assert heads() == [1, 3, 4, 5] and audit.verify(path, keys).ok


async def test_concurrent_records_share_one_write_and_fsync_and_each_caller_returns_once_its_record_is_durable(
        tmp_path: pathlib.Path, keys: KeyStore) -> None:
    """Group commit (vtkit.groupcommit): records that arrive while a write is in progress go together in the next
    write; the chain, checkpoints and witness heads are those of one record at a time."""
    n, path = 20, tmp_path / "a.jsonl"
    fsyncs: list[int] = []
    first_write_held, release = threading.Event(), threading.Event()

    def held_fsync(fd: int) -> None:
        fsyncs.append(fd)
        if len(fsyncs) == 1:  # the first record's write waits until the others have queued behind it
            first_write_held.set()
            assert release.wait(10)
        os.fsync(fd)

    log = audit.AuditLog(path, SERVICE, signer=keys.audit_signer(SERVICE), checkpoint_every=5, fsync=held_fsync)

    async def record(i: int) -> dict[str, Any]:
        auth._caller.set(auth.Caller("utrecht", "region", f"w-{i}", ""))  # this task's own context
        return await log.record(action="read", what="read contact", subject={"contact_id": f"c-{i}"},
                                tenant="utrecht", role="region", purpose="triage", outcome="success")

    first = asyncio.create_task(record(0))
    assert await asyncio.to_thread(first_write_held.wait, 10)
    others = [asyncio.create_task(record(i)) for i in range(1, n)]
    await asyncio.sleep(0)  # each new task runs up to its wait for the write (tasks start in creation order)
    assert log.waiting == n - 1
    assert not any(task.done() for task in [first, *others])  # nobody answered before their fsync
    release.set()
    written = await asyncio.gather(first, *others)

    assert audit.verify(path, keys).ok and audit.verify(path, keys).count == n
    on_disk = audit.read(path)
    assert sorted(r["subject"]["contact_id"] for r in on_disk) == sorted(f"c-{i}" for i in range(n))
    assert [on_disk[r["seq"] - 1] for r in written] == written  # each caller got its own record, as written
    assert all(r["who"]["user"] == f"w-{r['subject']['contact_id'][2:]}@utrecht" for r in on_disk)
    heads = [json.loads(line)["seq"] for line in audit.witness_of(path).read_text().splitlines()]
    assert heads == [1, 5, 10, 15, 20]
    # Two writes of the log (record 1; records 2-20), each followed by one of the witness: 4 fsyncs for 20 records.
    assert len(fsyncs) == 4 < n


def test_copies_go_in_batches_under_the_consumers_limit_and_a_batch_sent_again_is_read_once() -> None:
    from vt.audit.v1 import events_pb2

    def copy(seq: int, size: int) -> Any:
        return events_pb2.AuditRecord(seq=seq, service=SERVICE, line="x" * size, hash=f"h{seq}")

    big = [copy(1, 100_000), copy(2, 100_000), copy(3, 100_000), copy(4, 300_000), copy(5, 10)]
    assert [[c.seq for c in batch] for batch in audit.copy_batches(big)] == [[1, 2], [3], [4], [5]]
    values = [events_pb2.AuditRecords(records=[copy(1, 1), copy(2, 1)]).SerializeToString(),
              events_pb2.AuditRecords(records=[copy(1, 1), copy(2, 1), copy(3, 1)]).SerializeToString()]  # sent again
    assert [c.seq for c in audit.unpack_copies(values)] == [1, 2, 3]
