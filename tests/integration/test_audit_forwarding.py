"""vtkit.audit.AuditForwarder on the session broker: the audit file's records reach vt.national.audit.v1 as
vt.audit.v1.AuditRecord, each copy still verifiable against the file, and a second run sends only what
is new (the cursor survives a restart)."""

from __future__ import annotations

import asyncio
import json
import pathlib
import uuid
from typing import cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from intake.bootstrap import outbox_relay
from intake.store import ContactStore
from ops.cli import read_all
from vt.audit.v1 import events_pb2
from vtkit import audit, topics
from vtkit.grpcserver import GrpcServer
from vtkit.kafka import KafkaSettings, Publisher
from vtkit.keystore import KeyStore
from vtkit.signing import RecordSigner


async def test_audit_file_is_copied_to_the_audit_topic_once(kafka: str, keys: KeyStore, publisher: Publisher,
                                                            tmp_path: pathlib.Path) -> None:
    service = f"test-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "audit.jsonl"
    key = Ed25519PrivateKey.generate()  # this test service's own audit key
    log = audit.AuditLog(path, service, signer=key, checkpoint_every=3)
    for i in range(5):
        log.append(action="read", what="read contact", subject={"contact_id": f"c-{i}"}, tenant="utrecht",
                   role="region", purpose="triage", outcome="success", peer="ipv4:127.0.0.1:1")
    forwarder = audit.AuditForwarder(path, publisher, log=log)
    assert await forwarder.forward_pending() == 5
    log.append(action="denied", what="read contact", subject={"contact_id": "x"}, tenant="fryslan", role="region",
               purpose="", outcome="denied", detail="not_found")
    again = audit.AuditForwarder(path, publisher)  # as after a restart
    assert await again.forward_pending() == 1 and await again.forward_pending() == 0

    # Keyed by the service: its copies in one partition, in order, a pass's records in one Kafka record.
    mine = [r for r in await read_all(kafka, topics.NATIONAL_AUDIT) if r.key == service.encode()]
    assert len(mine) == 2 and len({r.partition for r in mine}) == 1
    assert [c.seq for c in events_pb2.AuditRecords.FromString(mine[0].value).records] == [1, 2, 3, 4, 5]
    copies = audit.unpack_copies(r.value for r in mine)
    assert [c.seq for c in copies] == [1, 2, 3, 4, 5, 6]
    assert "".join(c.line + "\n" for c in copies) == path.read_text()  # byte for byte the file
    assert copies[2].checkpoint_signature and not copies[1].checkpoint_signature
    assert (copies[5].action, copies[5].tenant, copies[5].detail, dict(copies[5].subject)) == (
        "denied", "fryslan", "not_found", {"contact_id": "x"})
    copy = tmp_path / "copy.jsonl"
    copy.write_text("".join(c.line + "\n" for c in copies))
    # The copy verifies like the file, against the service's key and the head the forwarder had witnessed.
    assert audit.verify(copy, OneKey(key), audit.witness_of(path)).ok
    heads = [json.loads(line)["seq"] for line in audit.witness_of(path).read_text().splitlines()]
    assert heads == [1, 3, 5, 6]  # the first record, checkpoints 3 and 6, and after the first forwarding pass: 5


class Health:
    """The one part of intake's server its relay uses: the health of its outbox."""

    async def set_part(self, name: str, serving: bool) -> None:
        pass


class OneKey:
    def __init__(self, key: Ed25519PrivateKey):
        self.key = key

    def audit_public(self, service: str) -> Ed25519PublicKey:
        return self.key.public_key()


async def test_intake_copies_its_access_log_at_most_once_per_interval_and_at_its_relay_last_pass(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path) -> None:
    """Intake copies on its relay's producer after a relay pass; a pass per melding need not copy each time."""
    tenant, service = "utrecht", f"intake-test-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "audit.jsonl"
    log = audit.AuditLog(path, service, signer=Ed25519PrivateKey.generate())
    now = [100.0]
    forwarder = audit.AuditForwarder(path, log=log, interval=0.5, clock=lambda: now[0])
    store = ContactStore(tmp_path / "intake.sqlite3")
    relay = outbox_relay(store, KafkaSettings(bootstrap_servers=kafka), tenant, forwarder, cast(GrpcServer, Health()),
                         RecordSigner.load(keys.root, tenant))

    def access(n: int) -> None:
        for i in range(n):
            log.append(action="read", what="read contact", subject={"contact_id": f"c-{i}"}, tenant=tenant,
                       role="region", purpose="triage", outcome="success", peer="ipv4:127.0.0.1:1")

    async def copied() -> list[int]:
        return [c.seq for c in audit.unpack_copies(r.value for r in await read_all(kafka, topics.NATIONAL_AUDIT)
                                                   if r.key == service.encode())]

    try:
        access(2)
        await relay.publish_pending()
        access(1)
        await relay.publish_pending()  # within the interval: the record waits in the file
        assert await copied() == [1, 2]
        now[0] += 0.5
        access(1)
        await relay.publish_pending()
        assert await copied() == [1, 2, 3, 4]
        access(1)
        stop = asyncio.Event()
        stop.set()
        await relay.run(stop)  # the last pass, however soon: nothing is left for the next start
        assert await copied() == [1, 2, 3, 4, 5]
    finally:
        store.close()
