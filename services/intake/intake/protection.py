"""Personal data leaves intake only encrypted (for the own region) or sealed (for radar).

Field names bind a ciphertext to its place in the event (vtkit.crypto associated data):
  "asker"             AdviesRegistered.asker        JSON {name, role, organisation, phone, email}
  "melder"            MeldingReceived.melder        same JSON shape
  "content"           narrative / question and afwegingskader answers, JSON
  "person:<id>"       PersonRef.details             JSON of the full identification of that person
  "contact"           the stored request at rest (event id = contact id)
"""

from __future__ import annotations

import json
from typing import Any

from vtkit.crypto import Ciphertext, Sealed, TenantCipher, seal

MATCHING_SERVICE = "radar"


def person_field(person_id: str) -> str:
    return f"person:{person_id}"


class PersonalDataProtector:
    def __init__(self, cipher: TenantCipher, radar_public_key: bytes):
        self.cipher = cipher
        self._radar_public_key = radar_public_key

    def encrypt_json(self, value: Any, *, event_id: str, field: str) -> Ciphertext:
        plaintext = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
        return self.cipher.encrypt(plaintext, event_id=event_id, field=field)

    def encrypt_bytes(self, value: bytes, *, event_id: str, field: str) -> Ciphertext:
        return self.cipher.encrypt(value, event_id=event_id, field=field)

    def decrypt_bytes(self, value: Ciphertext, *, event_id: str, field: str) -> bytes:
        return self.cipher.decrypt(value, event_id=event_id, field=field)

    def seal_for_matching(self, identity: bytes) -> Sealed:
        """Only radar can open this; it derives the cross-region pseudonym from the exact bytes."""
        return seal(identity, MATCHING_SERVICE, self._radar_public_key)
