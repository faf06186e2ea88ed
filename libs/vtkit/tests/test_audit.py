"""vtkit.audit: the hash chain, checkpoints, the verifier and the audited, auditor-only reading."""

from __future__ import annotations

import asyncio
import json
import pathlib
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from vtkit import audit
from vtkit.keystore import KeyStore, init_keys

N = 25


@pytest.fixture()
def keys(tmp_path: pathlib.Path) -> KeyStore:
    return init_keys(tmp_path / "keys")


def write_log(path: pathlib.Path, keys: KeyStore, n: int = N, every: int = 5) -> None:
    log = audit.AuditLog(path, "test", signer=keys.audit_signer(), checkpoint_every=every)
    for i in range(n):
        log.append(action="read", what="read contact", subject={"contact_id": f"c-{i}"}, tenant="utrecht",
                   role="region", purpose="triage", outcome="success", peer="ipv4:127.0.0.1:5000", user="u1")


def test_clean_log_verifies_with_its_checkpoints_and_continues_after_reopen(tmp_path: pathlib.Path,
                                                                            keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys, 12)
    write_log(path, keys, 13)  # a restarted service continues the chain
    verdict = audit.verify(path, keys.audit_public())
    assert verdict.ok and verdict.count == N and verdict.checkpoints == 5, verdict
    first = audit.read(path)[0]
    assert first["prev"] == audit.GENESIS and first["who"] == {"tenant": "utrecht", "role": "region", "user": "u1",
                                                                  "on_behalf_of": "utrecht"}
    assert first["where"] == {"service": "test", "peer": "ipv4:127.0.0.1:5000"} and first["action"] == "read"


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
            verdict = audit.verify(path, keys.audit_public())
            assert not verdict.ok and verdict.line == number, (number, offset, verdict)


def test_removed_and_reordered_lines_are_detected(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:10] + lines[11:]))
    verdict = audit.verify(path, keys.audit_public())
    assert not verdict.ok and verdict.line == 11
    path.write_text("".join(lines[1:]))
    assert audit.verify(path, keys.audit_public()).line == 1
    path.write_text("".join(lines[:3] + [lines[4], lines[3]] + lines[5:]))
    assert audit.verify(path, keys.audit_public()).line == 4


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
    assert audit.verify(path).ok  # the chain alone cannot tell: that is what the signatures are for
    verdict = audit.verify(path, keys.audit_public())
    assert not verdict.ok and verdict.line == 10 and "signature" in verdict.reason


def test_publisher_gets_every_record_after_the_file_and_an_outage_loses_nothing(tmp_path: pathlib.Path,
                                                                                  keys: KeyStore) -> None:
    published: list[dict[str, object]] = []

    async def publish(record: dict[str, object]) -> None:
        if record["seq"] == 2:
            raise ConnectionError("broker down")
        published.append(record)

    log = audit.AuditLog(tmp_path / "a.jsonl", "test", signer=keys.audit_signer(), publisher=publish)

    async def run() -> None:
        for action in ("create", "read", "denied"):
            await log.record(action=action, what=action, subject={"case_id": "k"}, tenant="t", role="region",
                             purpose="p", outcome="denied" if action == "denied" else "success")

    asyncio.run(run())
    assert [r["seq"] for r in published] == [1, 3]
    assert audit.verify(tmp_path / "a.jsonl", keys.audit_public()).count == 3
    with pytest.raises(ValueError):
        log.append(action="peek", what="x", subject={}, tenant="t", role="r", purpose="p", outcome="success")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vtkit.audit", *args], capture_output=True, text=True, timeout=60)


def test_cli_verify_and_show_is_auditor_only_and_itself_audited(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, keys, 7)
    result = cli("verify", str(path), "--key-dir", str(keys.root))
    assert result.returncode == 0 and result.stdout.startswith("OK 7 records"), result

    refused = cli("show", str(path), "--role", "region", "--tenant", "utrecht", "--key-dir", str(keys.root))
    assert refused.returncode == 2 and refused.stdout == ""
    shown = cli("show", str(path), "--role", "auditor", "--user", "inspecteur-1", "--key-dir", str(keys.root))
    assert shown.returncode == 0 and len(shown.stdout.splitlines()) == 8
    records = audit.read(path)
    assert [(r["action"], r["who"]["role"], r["outcome"]) for r in records[-2:]] == [
        ("denied", "region", "denied"), ("read", "auditor", "success")]
    assert records[-1]["who"]["user"] == "inspecteur-1"
    assert cli("verify", str(path), "--key-dir", str(keys.root)).stdout.startswith("OK 9 records")

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
    incomplete = {**record, "purpose": "", "where": {"service": "test", "peer": ""}, "subject": {"case_id": ""}}
    assert audit.missing_fields(incomplete) == ["subject", "purpose", "where.peer"]


@pytest.mark.parametrize("command", [["verify"], ["show", "--role", "auditor"]])
def test_the_cli_on_a_missing_log_says_so_in_one_line_and_creates_nothing(
        tmp_path: pathlib.Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "audit-nowhere.jsonl"
    assert audit.main([command[0], str(missing), *command[1:]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no audit log at" in err and "Traceback" not in err
    assert not missing.exists()
