"""Builds the household letter request at send time: the only place the notifier opens personal data.

The case's MeldingReceived stays encrypted in SQLite; here, just before the SendLetter call, the
melder (named only when `melder_may_be_named`, else only to remove them), the persons and the decision's household
text (never the melder's agreements) are decrypted
with the tenant key, one letter per adult directbetrokkene is rendered, and each PDF and addressee is encrypted again
under the tenant key (associated data: tenant, event id = that letter's idempotency key, field
"letter_pdf" / "letter_addressee"). Nothing decrypted is logged or stored.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vtkit import metrics
from vtkit.calendar import local_date
from vtkit.crypto import DecryptionError, TenantCipher
from vtkit.keystore import KeyStore
from vtkit.tenants import get_tenant

from notifier.adapters.pdf import render_letter
from notifier.adapters.proto import opened, sealed
from notifier.domain import Delivery
from notifier.domain.letter import (
    NOT_ADDRESSED_ROLES,
    AddressBook,
    LetterFacts,
    NoAddressBook,
    Person,
    address_for,
    addressees,
    letter_key,
    melder_terms,
    without_terms,
)
from notifier.inbox import Inbox
from notifier.store import Store
from notifier.store_rows import CaseRecord

log = logging.getLogger("notifier.letters")


class LetterNotReady(LookupError):
    """The case's MeldingReceived has not arrived yet: retried later, never sent without it."""


def _json(data: bytes) -> dict[str, Any]:
    value = json.loads(data)
    return value if isinstance(value, dict) else {}


def _full_name(details: dict[str, Any]) -> str:
    return " ".join(str(details.get(k, "")).strip() for k in ("first_names", "surname") if details.get(k)).strip()


def _birth_date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def persons(case: CaseRecord, melding: intake_events.MeldingReceived, cipher: TenantCipher) -> list[Person]:
    """The melding's directbetrokkenen, decrypted (witnesses are skipped unopened)."""
    out: list[Person] = []
    for person in melding.persons:
        role = common_pb2.PersonRole.Name(person.role).removeprefix("PERSON_ROLE_")
        if role in NOT_ADDRESSED_ROLES or not person.HasField("details"):
            continue
        details = _json(opened(cipher, person.details, case.event_id, f"person:{person.person_id}"))
        out.append(Person(person_id=person.person_id, name=_full_name(details), role=role,
                          bsn=str(details.get("bsn", "")).strip(), date_of_birth=_birth_date(details.get("date_of_birth")),
                          postcode=str(details.get("postcode", "")).strip(),
                          house_number=str(details.get("house_number", "")).strip()))
    return out


def household_notice(completed: radar_events.AssessmentCompleted, cause_event_id: str, cipher: TenantCipher,
                     case: CaseRecord) -> common_pb2.HouseholdNotice:
    """The decision's household text: the only decision text a letter is rendered from. The decision's
    `agreements` and `melder_feedback` are the melder's and are never opened here."""
    if not completed.HasField("household"):
        return common_pb2.HouseholdNotice()
    try:
        return common_pb2.HouseholdNotice.FromString(opened(cipher, completed.household, cause_event_id, "household"))
    except DecryptionError:
        log.warning("household text did not decrypt; the letter refers to the contact person",
                    extra={"case_id": case.case_id, "tenant": case.tenant_id})
        return common_pb2.HouseholdNotice()


def _without_melder(notice: common_pb2.HouseholdNotice, melder: dict[str, Any],
                    case: CaseRecord) -> common_pb2.HouseholdNotice:
    """A melder who may not be named is removed from the household text, whatever a worker typed there."""
    terms = melder_terms(*(str(melder.get(k, "")) for k in ("name", "organisation", "phone", "email")))
    agreements, a = without_terms(notice.agreements, terms)
    contact, c = without_terms(notice.contact_person, terms)
    if a or c:
        metrics.HOUSEHOLD_LETTER_MELDER_REMOVED.labels(case.tenant_id).inc()
        log.warning("the household text named the melder, who may not be named: removed from the letter",
                    extra={"case_id": case.case_id, "tenant": case.tenant_id})
    return common_pb2.HouseholdNotice(agreements=agreements, contact_person="" if c else contact)


@dataclass(frozen=True)
class Letter:
    """One addressee's letter, before rendering: its facts and what the letter gateway needs to post it."""
    person_id: str
    facts: LetterFacts
    addressee: dict[str, Any]


@dataclass(frozen=True)
class Unaddressed:
    """Someone the household letter should reach but cannot: the region has to inform them another way."""
    person_id: str
    reason: str  # "no_address" | "no_name" | "no_adult" (a child with no adult directbetrokkene)


def letters_for(case: CaseRecord, completed: radar_events.AssessmentCompleted, cause_event_id: str,
                cipher: TenantCipher, today: dt.date, book: AddressBook | None = None
                ) -> tuple[list[Letter], list[Unaddressed]]:
    """One letter per adult directbetrokkene with a known address (notifier.domain.letter.addressees and
    address_for), and who gets none."""
    book = book or NoAddressBook()
    melding = intake_events.MeldingReceived.FromString(case.melding)
    melder = _json(opened(cipher, melding.melder, case.event_id, "melder")) if melding.HasField("melder") else {}
    melder_name = (str(melder.get("name", "")).strip() or None) if melding.melder_may_be_named else None
    people = persons(case, melding, cipher)
    household = household_notice(completed, cause_event_id, cipher, case)
    if not melding.melder_may_be_named:
        household = _without_melder(household, melder, case)
    to, cannot = addressees(people, today)
    missing = [Unaddressed(person.person_id, reason) for person, reason in cannot]
    by_id = {p.person_id: p for p in people}
    out = []
    for addressee in to:
        person = by_id[addressee.person_id]
        address = address_for(person, book)
        if address is None:
            missing.append(Unaddressed(person.person_id, "no_address"))
            continue
        region = get_tenant(case.tenant_id)
        facts = LetterFacts(region_name=region.name,
                            reference=melding.reference or case.case_id,
                            letter_date=today, received_on=local_date(case.received_at), addressee=addressee,
                            address=address, melder_name=melder_name,
                            melder_professional=melding.melder_type == common_pb2.MELDER_TYPE_PROFESSIONAL,
                            decision=radar_events.Decision.Name(completed.decision),
                            agreements=household.agreements, contact=household.contact_person or region.letter_contact)
        out.append(Letter(person.person_id, facts, {"name": person.name, "street": address.street,
                                                    "house_number": address.house_number,
                                                    "postcode": address.postcode, "city": address.city,
                                                    "address_source": address.source}))
    return out, missing


class LetterBuilder:
    """The household letter stays ONE delivery (its due date, postponements, overdue report and ListDeliveries row
    are per case), sent as one SendLetter call per addressee, each with its own idempotency key derived from the
    delivery's key and the addressee's person id (`letter_key`). A retry of the delivery, after some calls went
    through, sends all of them again with the same keys, so the gateway holds each letter exactly once per key.
    (One delivery per addressee would have to decrypt the persons when the decision arrives and split the
    per-case deadline bookkeeping over several rows.)

    A directbetrokkene who gets no letter (no address known, no name, or a child with no adult directbetrokkene)
    becomes an item of the region's inbox (INBOX_ITEM_KIND_LETTER_NOT_SENT, by the region's own person id: the
    region informs them another way), scheduled once per delivery and person (its key), counted in
    vt_household_letter_unaddressed{tenant,reason} and logged as a warning."""

    def __init__(self, store: Store, keys: KeyStore, addresses: AddressBook | None = None, inbox: Inbox | None = None):
        self.store = store
        self.keys = keys
        self.addresses = addresses or NoAddressBook()
        self.inbox = inbox or Inbox(store, lambda: dt.datetime.now(dt.UTC))

    def _report(self, delivery: Delivery, missing: list[Unaddressed], sent: int) -> None:
        for item in missing:
            if not self.inbox.letter_not_sent(delivery.tenant_id, delivery.case_id, delivery.key, item.person_id,
                                              item.reason):
                continue  # told before (an earlier attempt of this delivery)
            metrics.HOUSEHOLD_LETTER_UNADDRESSED.labels(delivery.tenant_id, item.reason).inc()
            log.warning("a directbetrokkene gets no household letter; the region must inform them another way",
                        extra={"tenant": delivery.tenant_id, "case_id": delivery.case_id,
                               "person_id": item.person_id, "reason": item.reason, "letters": sent,
                               "idempotency_key": delivery.key})

    def requests(self, delivery: Delivery, today: dt.date) -> list[receivers_pb2.SendLetterRequest]:
        case = self.store.get_case(delivery.tenant_id, delivery.case_id)
        if case is None:
            raise LetterNotReady(f"no MeldingReceived known for case {delivery.case_id}")
        cipher = self.keys.tenant_cipher(delivery.tenant_id)
        completed = radar_events.AssessmentCompleted.FromString(delivery.body)
        letters, missing = letters_for(case, completed, delivery.cause_event_id, cipher, today, self.addresses)
        self._report(delivery, missing, len(letters))
        out = []
        for letter in letters:
            key = letter_key(delivery.key, letter.person_id)
            out.append(receivers_pb2.SendLetterRequest(
                idempotency_key=key, tenant_id=delivery.tenant_id, case_id=delivery.case_id,
                pdf=sealed(cipher, render_letter(letter.facts), key, "letter_pdf"),
                addressee=sealed(cipher, json.dumps(letter.addressee).encode(), key, "letter_addressee")))
        return out
