"""Radar and dossier keys. The agreements radar records with a decision are encrypted under the case's dossier key (intake's
per-household key), so destroying the dossier (Wmo 5.3.5) shreds them too; a case without a dossier key
falls back to the tenant key; deciding on a destroyed dossier is refused. An identity intake wrapped under
the dossier key opens to the usual pseudonym, and not at all once the dossier is destroyed."""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import Any

import pytest
from radar.adapters import proto
from radar.domain.cases import Decision
from radar.domain.decisions import DecisionInput, Judgement
from radar.handlers import DecisionConflict, Radar
from simulators.rvdk import random_bsn
from vt.common.v1 import common_pb2
from vt.radar.v1 import events_pb2
from vtkit.crypto import Ciphertext, DecryptionError, seal, wrap_for_sealing
from vtkit.envelope import new_event_id
from vtkit.keystore import KeyStore, init_keys
from vttest.radar import melding_received, published, radar_input

NOW = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)
TENANT = "utrecht"


@pytest.fixture()
def keys(tmp_path: pathlib.Path) -> KeyStore:
    return init_keys(tmp_path / "keys")


def decide(keys: KeyStore, radar: Radar, with_dossier: bool,
           destroyed: bool = False) -> tuple[str, events_pb2.AssessmentCompleted, str]:
    event_id = new_event_id()
    melding = melding_received(keys, TENANT, [random_bsn()], event_id=event_id)
    if with_dossier:  # what intake does for every melding
        keys.data_keys.create_dossier_key(TENANT, melding.contact_id, NOW)
    if destroyed:
        keys.data_keys.destroy(f"{TENANT}/dossier/{melding.contact_id}")
    record = radar.on_intake(*radar_input(melding, TENANT, event_id)).case
    assert record is not None
    chosen = DecisionInput(melding.contact_id, Judgement.STRUCTURAL_UNSAFETY, Decision.ONDERZOEK, "",
                           "VT Utrecht, team Noord", "Moeder belt dagelijks de school")
    result = radar.record_decision(TENANT, record, chosen, NOW)
    assert result.output is not None and isinstance(published(result.output), events_pb2.AssessmentCompleted)
    return melding.contact_id, published(result.output), result.event_id


def agreements(keys: KeyStore, msg: events_pb2.AssessmentCompleted, event_id: str) -> bytes:
    return keys.tenant_cipher(TENANT).decrypt(Ciphertext(msg.agreements.key_id, msg.agreements.nonce,
                                                         msg.agreements.ciphertext), event_id=event_id,
                                              field="agreements")


def test_agreements_are_under_the_dossier_key_and_shredded_with_it(keys: KeyStore) -> None:
    radar = Radar(keys.seal_opener("radar"), keys.pseudonymizer(), tenant_cipher=keys.tenant_cipher,
                  case_cipher=keys.case_cipher, encoding=proto)
    case_id, msg, event_id = decide(keys, radar, with_dossier=True)
    assert msg.agreements.key_id == f"{TENANT}/dossier/{case_id}"
    assert agreements(keys, msg, event_id) == b"Moeder belt dagelijks de school"
    keys.data_keys.destroy(f"{TENANT}/dossier/{case_id}")
    with pytest.raises(DecryptionError):
        agreements(keys, msg, event_id)


def test_without_a_dossier_key_the_tenant_key_is_used_and_a_destroyed_dossier_refuses(keys: KeyStore) -> None:
    radar = Radar(keys.seal_opener("radar"), keys.pseudonymizer(), tenant_cipher=keys.tenant_cipher,
                  case_cipher=keys.case_cipher, encoding=proto)
    _, msg, event_id = decide(keys, radar, with_dossier=False)
    assert msg.agreements.key_id == f"{TENANT}:1"
    assert agreements(keys, msg, event_id) == b"Moeder belt dagelijks de school"
    with pytest.raises(DecisionConflict, match="destroyed"):
        decide(keys, radar, with_dossier=True, destroyed=True)


def wrapped_melding(keys: KeyStore, bsn: str, event_id: str) -> Any:
    """A MeldingReceived as intake now publishes it: the identity wrapped under the dossier key, then sealed."""
    msg = melding_received(keys, TENANT, [bsn], event_id=event_id)
    key_id = keys.data_keys.create_dossier_key(TENANT, msg.contact_id, NOW)
    person = msg.persons[0]
    inner = wrap_for_sealing(keys.dossier_cipher(TENANT, key_id), b"bsn:" + bsn.encode(), event_id=event_id,
                             field=f"identity:{person.person_id}")
    s = seal(inner, "radar", keys.seal_public("radar"))
    person.sealed_identity.CopyFrom(common_pb2.SealedIdentifier(
        recipient=s.recipient, ephemeral_public_key=s.ephemeral_public_key, nonce=s.nonce, ciphertext=s.ciphertext))
    return msg


def test_a_wrapped_identity_gives_the_same_pseudonym_until_its_dossier_is_destroyed(keys: KeyStore) -> None:
    radar = Radar(keys.seal_opener("radar"), keys.pseudonymizer(), tenant_cipher=keys.tenant_cipher,
                  case_cipher=keys.case_cipher, encoding=proto)
    bsn, event_id = random_bsn(), new_event_id()
    msg = wrapped_melding(keys, bsn, event_id)
    event = radar_input(msg, TENANT, event_id)
    live = radar.on_intake(*event)
    assert live.case is not None
    assert list(live.case.persons.values()) == [keys.pseudonymizer().pseudonym(b"bsn:" + bsn.encode())]
    keys.data_keys.destroy(f"{TENANT}/dossier/{msg.contact_id}")
    replayed = radar.on_intake(*event)  # the same record read again from history after the destruction
    assert replayed.case is None and not replayed.outputs
