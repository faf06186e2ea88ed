"""Personal data leaves intake only encrypted (for the own region) or sealed (for radar).

Field names bind a ciphertext to its place in the event (vtkit.crypto associated data):
  "asker"             AdviesRegistered.asker        JSON {name, role, organisation, phone, email}
  "melder"            MeldingReceived.melder        same JSON shape
  "content"           narrative / question and afwegingskader answers, JSON
  "person:<id>"       PersonRef.details             JSON of the full identification of that person
  "criteria"          AdviesConverted.criteria      JSON {nature_and_severity, asker_inability}
  "mdo_participants"  AmbtshalveMeldingMade.mdo_participants   JSON list of the MDO's participants
  "contact"           the stored request at rest (event id = contact id)

Which key: a melding's fields (melder, content, persons, criteria, mdo_participants) and its stored request are encrypted under
its dossier's key ("<tenant>/dossier/<id>", see services/intake/README.md, "Dossiers"), so destroying that one key shreds the
household everywhere. An advies (no household data) is encrypted under the tenant's newest key, looked
up per use, so a `python -m vtkit.keystore rotate` takes effect without a restart. Decryption resolves
whichever key the ciphertext names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from vtkit.crypto import Ciphertext, Sealed, Sealer, TenantCipher, wrap_for_sealing
from vtkit.keys import DossierKeyWrite, dossier_key_id
from vtkit.keystore import KeyStore

MATCHING_SERVICE = "radar"


def person_field(person_id: str) -> str:
    return f"person:{person_id}"


class PersonalDataProtector:
    """Encrypts under the tenant's newest key; `for_dossier` gives one that encrypts under a dossier key."""

    def __init__(self, keys: KeyStore, tenant: str, dossier_key: str = "", *,
                 _dossier_cipher: TenantCipher | None = None, _radar_public_key: bytes | None = None,
                 _key_write: DossierKeyWrite | None = None):
        self.keys = keys
        self.tenant = tenant
        self.dossier_key = dossier_key
        self._radar_public_key = keys.seal_public(MATCHING_SERVICE) if _radar_public_key is None else _radar_public_key
        # A dossier protector lives for one request: its key is read once. The tenant's is read per use.
        if _dossier_cipher is None and dossier_key:
            _dossier_cipher = keys.dossier_cipher(tenant, dossier_key)
        self._dossier_cipher = _dossier_cipher
        self._household_key: bytes | None = None
        # What the contact's save commits with it: the dossier's new key or its later change (None: durable already).
        self.key_write = _key_write

    @property
    def cipher(self) -> TenantCipher:
        return self._dossier_cipher or self.keys.tenant_cipher(self.tenant)

    def household_keys(self, identities: Sequence[bytes]) -> list[str]:
        """The region's keyed hash of each person's identity (the region's own household index key, never the
        national pseudonym key): a later melding about a person of the same household finds its dossier without
        the dossier table holding any identifier (blocking: creates the index key on first use; read once per
        protector, not per melding: it is never rotated)."""
        if self._household_key is None:
            key_id = self.keys.data_keys.ensure_owner(f"{self.tenant}.household")
            self._household_key = self.keys.data_keys.data_key(key_id)
        return [hmac.new(self._household_key, identity, hashlib.sha256).hexdigest() for identity in identities]

    def for_dossier(self, dossier_id: str, last_change: dt.datetime) -> PersonalDataProtector:
        """The dossier's key, made if it has none; a later melding is a change: its retention restarts. With intake's
        own key table (intake.dossier_keys) both are written by the contact's save (`key_write`), otherwise before
        this returns. Blocking. Radar's sealing key is this protector's (read at its start, as for the tenant's own
        fields), not read again per request."""
        data_keys = self.keys.data_keys
        key_id, key, write = data_keys.prepare_dossier_key(self.tenant, dossier_id, last_change)
        assert key_id == dossier_key_id(self.tenant, dossier_id)
        cipher = TenantCipher(self.tenant, key_id, key, resolve=data_keys.data_key)  # as KeyStore.dossier_cipher
        return PersonalDataProtector(self.keys, self.tenant, key_id, _dossier_cipher=cipher,
                                     _radar_public_key=self._radar_public_key, _key_write=write)

    def encrypt_json(self, value: Any, *, event_id: str, field: str) -> Ciphertext:
        plaintext = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
        return self.cipher.encrypt(plaintext, event_id=event_id, field=field)

    def encrypt_bytes(self, value: bytes, *, event_id: str, field: str) -> Ciphertext:
        return self.cipher.encrypt(value, event_id=event_id, field=field)

    def decrypt_bytes(self, value: Ciphertext, *, event_id: str, field: str) -> bytes:
        # Any of the tenant's keys, by the key id the ciphertext carries (older generations, dossier keys).
        return self.keys.tenant_cipher(self.tenant).decrypt(value, event_id=event_id, field=field)

    def seal_for_matching(self, identities: Sequence[tuple[str, bytes]], *, event_id: str) -> list[Sealed]:
        """(person id, identity) of one record, each sealed so that only radar can open it; it derives the
        cross-region pseudonym from the exact bytes. One ephemeral key for the record (vtkit.crypto.Sealer). Under
        a dossier each identity is first encrypted under the dossier key (field "identity:<person id>"), so
        after the dossier's destruction not even radar can open it from the topic history."""
        sealer = Sealer(MATCHING_SERVICE, self._radar_public_key)
        sealed = []
        for person_id, identity in identities:
            if self._dossier_cipher is not None:
                identity = wrap_for_sealing(self._dossier_cipher, identity, event_id=event_id,
                                            field=f"identity:{person_id}")
            sealed.append(sealer.seal(identity))
        return sealed
