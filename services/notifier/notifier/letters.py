"""Builds the household letter request at send time: the only place the notifier opens personal data.

The case's MeldingReceived stays encrypted in SQLite; here, just before the SendLetter call, the
melder (only when `melder_may_be_named`), the persons and the decision's agreements are decrypted
with the tenant key, the letter is rendered, and the PDF and the addressee are encrypted again
under the tenant key (associated data: tenant, event id = the delivery's idempotency key, field
"letter_pdf" / "letter_addressee"). Nothing decrypted is logged or stored.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vtkit.calendar import local_date
from vtkit.crypto import Ciphertext, DecryptionError, TenantCipher
from vtkit.keystore import KeyStore
from vtkit.tenants import get_tenant

from notifier.adapters.pdf import render_letter
from notifier.domain import Delivery
from notifier.domain.letter import LetterFacts
from notifier.store import CaseRecord, Store

log = logging.getLogger("notifier.letters")

# Roles that make up the household; a witness is not addressed and never named.
HOUSEHOLD_ROLES = {common_pb2.PERSON_ROLE_VICTIM, common_pb2.PERSON_ROLE_SUSPECT, common_pb2.PERSON_ROLE_CHILD,
                   common_pb2.PERSON_ROLE_HOUSEHOLD_MEMBER}


class LetterNotReady(LookupError):
    """The case's MeldingReceived has not arrived yet: retried later, never sent without it."""


def opened(cipher: TenantCipher, field: common_pb2.EncryptedField, event_id: str, name: str) -> bytes:
    return cipher.decrypt(Ciphertext(field.key_id, field.nonce, field.ciphertext), event_id=event_id, field=name)


def sealed(cipher: TenantCipher, plaintext: bytes, event_id: str, name: str) -> common_pb2.EncryptedField:
    c = cipher.encrypt(plaintext, event_id=event_id, field=name)
    return common_pb2.EncryptedField(key_id=c.key_id, nonce=c.nonce, ciphertext=c.ciphertext)


def _json(data: bytes) -> dict[str, Any]:
    value = json.loads(data)
    return value if isinstance(value, dict) else {}


def _full_name(details: dict[str, Any]) -> str:
    return " ".join(str(details.get(k, "")).strip() for k in ("first_names", "surname") if details.get(k)).strip()


def letter_facts(case: CaseRecord, completed: radar_events.AssessmentCompleted, cause_event_id: str,
                 cipher: TenantCipher, today: dt.date) -> tuple[LetterFacts, dict[str, Any]]:
    """The letter's facts and its addressee (names and address of the household)."""
    melding = intake_events.MeldingReceived.FromString(case.melding)
    melder_name: str | None = None
    if melding.melder_may_be_named and melding.HasField("melder"):
        melder = _json(opened(cipher, melding.melder, case.event_id, "melder"))
        melder_name = str(melder.get("name", "")).strip() or None
    names: list[str] = []
    address: dict[str, str] = {}
    for person in melding.persons:
        if person.role not in HOUSEHOLD_ROLES or not person.HasField("details"):
            continue
        details = _json(opened(cipher, person.details, case.event_id, f"person:{person.person_id}"))
        if name := _full_name(details):
            names.append(name)
        if not address and details.get("postcode"):
            address = {"postcode": str(details["postcode"]), "house_number": str(details.get("house_number", ""))}
    agreements = ""
    if completed.HasField("agreements"):
        try:
            agreements = opened(cipher, completed.agreements, cause_event_id, "agreements").decode("utf-8", "replace")
        except DecryptionError:
            log.warning("agreements did not decrypt; the letter refers to the contact person",
                        extra={"case_id": case.case_id, "tenant": case.tenant_id})
    facts = LetterFacts(region_name=get_tenant(case.tenant_id).name, reference=melding.reference or case.case_id,
                        letter_date=today, received_on=local_date(case.received_at), addressees=tuple(names),
                        melder_name=melder_name,
                        melder_professional=melding.melder_type == common_pb2.MELDER_TYPE_PROFESSIONAL,
                        decision=radar_events.Decision.Name(completed.decision), agreements=agreements)
    return facts, {"names": names, **address}


class LetterBuilder:
    def __init__(self, store: Store, keys: KeyStore):
        self.store = store
        self.keys = keys

    def request(self, delivery: Delivery, today: dt.date) -> receivers_pb2.SendLetterRequest:
        case = self.store.get_case(delivery.tenant_id, delivery.case_id)
        if case is None:
            raise LetterNotReady(f"no MeldingReceived known for case {delivery.case_id}")
        cipher = self.keys.tenant_cipher(delivery.tenant_id)
        completed = radar_events.AssessmentCompleted.FromString(delivery.body)
        facts, addressee = letter_facts(case, completed, delivery.cause_event_id, cipher, today)
        pdf = render_letter(facts)
        return receivers_pb2.SendLetterRequest(
            idempotency_key=delivery.key, tenant_id=delivery.tenant_id, case_id=delivery.case_id,
            pdf=sealed(cipher, pdf, delivery.key, "letter_pdf"),
            addressee=sealed(cipher, json.dumps(addressee).encode(), delivery.key, "letter_addressee"))
