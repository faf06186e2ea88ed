"""A key radar does not have is not a destroyed key. A melding whose identity is wrapped under a dossier key
that was destroyed is skipped (crypto-shredding works as meant); one wrapped under a dossier key radar cannot
find, for which no destruction is recorded, is dead-lettered with the reason, so the acknowledged melding is
kept for a re-drive once the key is there, and never silently skipped."""

from __future__ import annotations

import datetime as dt
import os
import uuid

from devstack.processes import ServiceProcess
from simulators.rvdk import random_bsn
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.crypto import TenantCipher, seal, wrap_for_sealing
from vtkit.envelope import new_event_id
from vtkit.kafka import Publisher
from vtkit.keys import dossier_key_id
from vtkit.keystore import KeyStore
from vttest.radar import Watcher, publish_melding

TENANT = "zuid-limburg"


def melding_under(cipher: TenantCipher, keys: KeyStore, event_id: str) -> intake_events.MeldingReceived:
    """A MeldingReceived as intake writes it for a dossier: the identity wrapped under the dossier key, sealed."""
    person_id = f"person-{uuid.uuid4().hex[:6]}"
    wrapped = wrap_for_sealing(cipher, f"bsn:{random_bsn()}".encode(), event_id=event_id, field=f"identity:{person_id}")
    s = seal(wrapped, "radar", keys.seal_public("radar"))
    msg = intake_events.MeldingReceived(
        tenant_id=TENANT, contact_id=f"case-{uuid.uuid4()}", reference=f"VT-{uuid.uuid4().hex[:8]}",
        origin=intake_events.MELDING_ORIGIN_DIRECT, melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL,
        nature=[common_pb2.CONCERN_NATURE_CHILD_ABUSE],
        persons=[common_pb2.PersonRef(person_id=person_id, role=common_pb2.PERSON_ROLE_CHILD,
                                      sealed_identity=common_pb2.SealedIdentifier(
                                          recipient=s.recipient, ephemeral_public_key=s.ephemeral_public_key,
                                          nonce=s.nonce, ciphertext=s.ciphertext))])
    msg.received_at.FromDatetime(dt.datetime.now(dt.UTC))
    return msg


async def test_an_unknown_key_is_dead_lettered_and_a_destroyed_one_skipped(
        kafka: str, keys: KeyStore, publisher: Publisher, radar: ServiceProcess) -> None:
    unknown_key = dossier_key_id(TENANT, f"never-made-{uuid.uuid4().hex[:8]}")
    destroyed_key = keys.data_keys.create_dossier_key(TENANT, f"shredded-{uuid.uuid4().hex[:8]}", dt.datetime.now(dt.UTC))
    destroyed_cipher = keys.dossier_cipher(TENANT, destroyed_key)  # its key material, before the destruction
    assert keys.data_keys.destroy(destroyed_key)

    watcher = await Watcher(kafka, topics.DEAD_LETTERS, topics.NATIONAL_ASSESSMENTS).start()
    try:
        unknown_id, destroyed_id, control_id = new_event_id(), new_event_id(), new_event_id()
        unknown = melding_under(TenantCipher(TENANT, unknown_key, os.urandom(32)), keys, unknown_id)
        destroyed = melding_under(destroyed_cipher, keys, destroyed_id)
        control = melding_under(keys.tenant_cipher(TENANT), keys, control_id)  # after both: all read when it is
        for msg, event_id in ((unknown, unknown_id), (destroyed, destroyed_id), (control, control_id)):
            await publish_melding(publisher, msg, event_id)

        [dead] = await watcher.wait_for(lambda s: s.topic == topics.DEAD_LETTERS and s.headers.get("ce_id") == unknown_id,
                                        what="the melding under an unknown key, dead-lettered")
        await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue)
                               and s.message.case_id == control.contact_id, what="the control melding's assessment")
        assessed = {s.message.case_id for s in watcher.matching(lambda s: isinstance(s.message, events_pb2.AssessmentDue))}
        dead_ids = {s.headers.get("ce_id") for s in watcher.matching(lambda s: s.topic == topics.DEAD_LETTERS)}
    finally:
        await watcher.stop()
    assert "KeyMissing" in dead.headers["dl_reason"] and "not a destroyed key" in dead.headers["dl_reason"]
    assert dead.headers["dl_topic"] == topics.intake(TENANT)
    assert unknown.contact_id not in assessed and destroyed.contact_id not in assessed
    assert destroyed_id not in dead_ids  # a destroyed dossier is skipped, as meant
    assert "melding needs a key radar does not have" in radar.log_text()
    assert "melding of a destroyed dossier skipped" in radar.log_text()
