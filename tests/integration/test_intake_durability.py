"""An acknowledged contact is never lost: not when the process is SIGKILLed right after the
acknowledgements (its dossier key neither), not when the broker is unreachable while contacts are accepted."""

from __future__ import annotations

import asyncio
import json
import pathlib

from devstack.broker import free_port, wait_for_broker
from devstack.scenario import melding_request, random_bsn
from vtkit import audit, topics
from vtkit.channels import Org
from vtkit.grpcserver import wait_healthy
from vtkit.keys import LocalDataKeyStore, dossier_key_id
from vtkit.keystore import KeyStore
from vttest import CuttableLink, broker_advertised_at
from vttest.intake import call, contact_ids, intake_process, read_topic

CONTACTS = 30


async def submit_many(address: str, token: Org, count: int) -> list[str]:
    replies = await asyncio.gather(*(call(address, token, "SubmitMelding", melding_request(random_bsn()))
                                     for _ in range(count)))
    return [reply.contact_id for reply in replies]


async def test_sigkill_right_after_the_acknowledgements_loses_no_event(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path) -> None:
    tenant = "twente"
    first = intake_process(tmp_path, kafka, keys, tenant, data_dir).start()
    try:
        await wait_healthy(first.address, timeout=20, keys=keys)
        acknowledged = await submit_many(first.address, Org(keys, tenant), CONTACTS)
    finally:
        first.kill()  # no chance to publish or mark anything sent

    second = intake_process(tmp_path, kafka, keys, tenant, data_dir).start()
    try:
        await wait_healthy(second.address, timeout=20, keys=keys)
        records = await read_topic(kafka, topics.intake(tenant), lambda r: set(acknowledged) <= set(contact_ids(r)))
    finally:
        assert second.stop() == 0, second.log_text()[-3000:]
    # At-least-once: a row published just before the kill may appear twice, with the same event id.
    published = [(e.message.contact_id, e.envelope.id) for _, e, _ in records if e.message.contact_id in acknowledged]
    ids_per_contact = {contact: {eid for c, eid in published if c == contact} for contact in acknowledged}
    assert all(len(ids) == 1 for ids in ids_per_contact.values())
    # Each dossier key was committed with its contact, and is in the shared key store (what radar and the notifier
    # read) before its MeldingReceived was sent, also for the keys the killed process had not published yet.
    shared = LocalDataKeyStore(keys.root)
    for _, event, _ in records:
        assert shared.data_key(event.message.content.key_id) == shared.data_key(dossier_key_id(tenant,
                                                                                              event.message.dossier_id))


async def test_contacts_accepted_while_the_broker_is_unreachable_are_published_later(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path) -> None:
    tenant = "gooi-en-vechtstreek"
    closed_port = f"127.0.0.1:{free_port()}"  # nothing listens there
    offline = intake_process(tmp_path, closed_port, keys, tenant, data_dir, name="intake-offline").start()
    try:
        await wait_healthy(offline.address, timeout=20, keys=keys)
        acknowledged = await submit_many(offline.address, Org(keys, tenant), 5)
        await asyncio.sleep(1)  # let the relay try (and fail) at least once
    finally:
        assert offline.stop() == 0, offline.log_text()[-3000:]
    assert "retrying" in offline.log_text()
    # Its access log was never copied to the (unreachable) audit topic: the clean stop witnessed the head, so the
    # last records cannot be cut off unnoticed (the log itself witnesses only its first record and checkpoints).
    log_path = data_dir / f"audit-intake-{tenant}.jsonl"
    witnessed = [json.loads(line)["seq"] for line in audit.witness_of(log_path).read_text().splitlines()]
    assert witnessed[-1] == audit.read(log_path)[-1]["seq"] >= 5 and audit.verify(log_path, keys).ok

    online = intake_process(tmp_path, kafka, keys, tenant, data_dir, name="intake-online").start()
    try:
        await wait_healthy(online.address, timeout=20, keys=keys)
        records = await read_topic(kafka, topics.intake(tenant), lambda r: set(acknowledged) <= set(contact_ids(r)))
    finally:
        assert online.stop() == 0, online.log_text()[-3000:]
    assert sorted(set(contact_ids(records)) & set(acknowledged)) == sorted(acknowledged)


async def test_a_network_partition_while_running_only_delays_the_events(
        tmp_path: pathlib.Path, keys: KeyStore, data_dir: pathlib.Path) -> None:
    tenant = "hollands-midden"
    broker_port, link_port = free_port(), free_port()
    bootstrap = f"127.0.0.1:{link_port}"
    broker = broker_advertised_at(bootstrap, broker_port, tmp_path / "broker.log")
    link = CuttableLink(link_port, broker_port)
    await link.start()
    intake = intake_process(tmp_path, bootstrap, keys, tenant, data_dir)
    try:
        await wait_for_broker(f"127.0.0.1:{broker_port}")
        intake.start()
        await wait_healthy(intake.address, timeout=20, keys=keys)
        token = Org(keys, tenant)
        before = await submit_many(intake.address, token, 1)
        await read_topic(bootstrap, topics.intake(tenant), lambda r: before[0] in contact_ids(r))
        link.cut()
        during = await submit_many(intake.address, token, 3)
        await asyncio.sleep(3)  # the relay fails against the unreachable broker
        assert "retrying" in intake.log_text() or "NodeNotReady" in intake.log_text()
        link.restore()
        records = await read_topic(bootstrap, topics.intake(tenant), lambda r: set(during) <= set(contact_ids(r)),
                                   timeout=60)
        assert set(during) <= set(contact_ids(records))
    finally:
        assert intake.stop() == 0, intake.log_text()[-3000:]
        await link.stop()
        broker.terminate()
        broker.wait(10)
