"""An acknowledged contact is never lost: not when the process is SIGKILLed right after the
acknowledgements, not when the broker is unreachable while contacts are accepted."""

from __future__ import annotations

import asyncio
import pathlib

from intake.testkit import call, contact_ids, intake_process, read_topic
from vtkit import topics
from vtkit.broker import free_port
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vtkit.scenario import melding_request, valid_bsn

CONTACTS = 30


async def submit_many(address: str, token: str, count: int) -> list[str]:
    replies = await asyncio.gather(*(call(address, token, "SubmitMelding", melding_request(valid_bsn()))
                                     for _ in range(count)))
    return [reply.contact_id for reply in replies]


async def test_sigkill_right_after_the_acknowledgements_loses_no_event(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path) -> None:
    tenant = "twente"
    first = intake_process(tmp_path, kafka, keys, tenant, data_dir).start()
    try:
        await wait_healthy(first.address, timeout=20)
        acknowledged = await submit_many(first.address, keys.token_for(tenant), CONTACTS)
    finally:
        first.kill()  # no chance to publish or mark anything sent

    second = intake_process(tmp_path, kafka, keys, tenant, data_dir).start()
    try:
        await wait_healthy(second.address, timeout=20)
        records = await read_topic(kafka, topics.intake(tenant), lambda r: set(acknowledged) <= set(contact_ids(r)))
    finally:
        assert second.stop() == 0, second.log_text()[-3000:]
    # At-least-once: a row published just before the kill may appear twice, with the same event id.
    published = [(e.message.contact_id, e.envelope.id) for _, e, _ in records if e.message.contact_id in acknowledged]
    ids_per_contact = {contact: {eid for c, eid in published if c == contact} for contact in acknowledged}
    assert all(len(ids) == 1 for ids in ids_per_contact.values())


async def test_contacts_accepted_while_the_broker_is_unreachable_are_published_later(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path) -> None:
    tenant = "gooi-en-vechtstreek"
    closed_port = f"127.0.0.1:{free_port()}"  # nothing listens there
    offline = intake_process(tmp_path, closed_port, keys, tenant, data_dir, name="intake-offline").start()
    try:
        await wait_healthy(offline.address, timeout=20)
        acknowledged = await submit_many(offline.address, keys.token_for(tenant), 5)
        await asyncio.sleep(1)  # let the relay try (and fail) at least once
    finally:
        assert offline.stop() == 0, offline.log_text()[-3000:]
    assert "retrying" in offline.log_text()

    online = intake_process(tmp_path, kafka, keys, tenant, data_dir, name="intake-online").start()
    try:
        await wait_healthy(online.address, timeout=20)
        records = await read_topic(kafka, topics.intake(tenant), lambda r: set(acknowledged) <= set(contact_ids(r)))
    finally:
        assert online.stop() == 0, online.log_text()[-3000:]
    assert sorted(set(contact_ids(records)) & set(acknowledged)) == sorted(acknowledged)
