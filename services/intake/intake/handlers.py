"""The service layer: one use case per RPC. Validates with the domain rules, builds the stored
contact and its events (personal data encrypted or sealed), and commits both in one transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from vtkit import topics
from vtkit.envelope import encode, envelope_for, new_event_id

from intake.adapters import proto
from intake.domain import rules
from intake.domain.errors import ConflictError, ContactNotFound, DomainError, ValidationError
from intake.domain.model import (
    Advies,
    AmbtshalveConditions,
    ContactKind,
    ConversionCriteria,
    Melding,
    MeldingOrigin,
    MultidisciplinaryConsultation,
)
from intake.protection import PersonalDataProtector
from intake.store import ContactRecord, ContactStore, OutboxEntry

PAYLOAD_FIELD = "contact"
# What a use case builds before the commit: the contact, its events, and the advies it converts (or "").
Built = tuple[ContactRecord, list[OutboxEntry], str]


def _nested(prefix: str, check: Callable[[], None]) -> None:
    """Run a domain check whose field paths are relative to a sub-message of the request."""
    try:
        check()
    except DomainError as exc:
        raise exc.under(prefix) from None


class IntakeHandlers:
    def __init__(self, tenant: str, region: int, store: ContactStore, protector: PersonalDataProtector,
                 on_commit: Callable[[], None] = lambda: None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self.tenant = tenant
        self.region = region
        self.store = store
        self.protector = protector
        self.topic = topics.intake(tenant)
        self._on_commit = on_commit  # wakes the relay so events go out without waiting for its poll
        self._clock = clock

    # -- use cases --------------------------------------------------------------------------

    async def register_advies(self, key: str, advies: Advies) -> ContactRecord:
        async def build() -> Built:
            rules.validate_advies(advies)
            record = self._advies_contact(advies, ContactKind.ADVIES, previous_advies_id="")
            return record, [self._advies_event(record, advies)], ""

        return await self._accept(key, "RegisterAdvies", build)

    async def register_vervolgadvies(self, key: str, previous_advies_id: str, advies: Advies) -> ContactRecord:
        async def build() -> Built:
            _nested("advies", lambda: rules.validate_advies(advies))
            await self._existing_advies("previous_advies_id", previous_advies_id)
            record = self._advies_contact(advies, ContactKind.VERVOLGADVIES, previous_advies_id)
            return record, [self._advies_event(record, advies)], ""

        return await self._accept(key, "RegisterVervolgadvies", build)

    async def submit_melding(self, key: str, melding: Melding) -> ContactRecord:
        async def build() -> Built:
            _nested("melding", lambda: rules.validate_melding(melding))
            record = self._melding_contact(melding, ContactKind.MELDING)
            return record, [self._melding_event(record, MeldingOrigin.DIRECT, melding)], ""

        return await self._accept(key, "SubmitMelding", build)

    async def convert_advies(self, key: str, advies_id: str, criteria: ConversionCriteria,
                             melding: Melding) -> ContactRecord:
        async def build() -> Built:
            rules.validate_conversion(advies_id, criteria)
            _nested("melding", lambda: rules.validate_melding(melding))
            advies = await self._existing_advies("advies_id", advies_id)
            if advies.converted_to:
                raise ConflictError("advies_id", f"this advies was already converted into melding {advies.converted_to}")
            record = self._melding_contact(melding, ContactKind.CONVERTED_MELDING, linked_contact_id=advies_id)
            converted = proto.advies_converted(tenant=self.tenant, advies_id=advies_id, record=record)
            return record, [self._melding_event(record, MeldingOrigin.CONVERTED_ADVIES, melding),
                            self._entry(record, converted, new_event_id())], advies_id

        return await self._accept(key, "ConvertAdvies", build)

    async def submit_ambtshalve_melding(self, key: str, conditions: AmbtshalveConditions,
                                        mdo: MultidisciplinaryConsultation, melding: Melding) -> ContactRecord:
        async def build() -> Built:
            rules.validate_ambtshalve(conditions, mdo)
            _nested("melding", lambda: rules.validate_melding(melding))
            # The professional is always told the decision and its consequences (domain.md 2).
            record = self._melding_contact(melding, ContactKind.AMBTSHALVE_MELDING, professional_to_be_informed=True)
            made = proto.ambtshalve_melding_made(tenant=self.tenant, record=record, mdo=mdo)
            return record, [self._melding_event(record, MeldingOrigin.AMBTSHALVE, melding),
                            self._entry(record, made, new_event_id())], ""

        return await self._accept(key, "SubmitAmbtshalveMelding", build)

    async def get_contact(self, contact_id: str) -> tuple[ContactRecord, bytes]:
        """The stored contact and its request payload (protobuf bytes), decrypted."""
        record = await asyncio.to_thread(self.store.get, contact_id) if contact_id else None
        if record is None:
            raise ContactNotFound("contact_id", f"no contact {contact_id!r} in this region")
        payload = self.protector.decrypt_bytes(record.payload, event_id=record.contact_id, field=PAYLOAD_FIELD)
        return record, payload

    # -- the common acceptance path ---------------------------------------------------------

    async def _accept(self, key: str, method: str, build: Callable[[], Awaitable[Built]]) -> ContactRecord:
        rules.require_idempotency_key(key)
        earlier = await asyncio.to_thread(self.store.find_by_idempotency_key, key)
        if earlier is None:
            record, outbox, converts_advies = await build()
            earlier = await asyncio.to_thread(self.store.save, record, outbox, key, method, converts_advies)
            self._on_commit()
        first_method, first = earlier
        if first_method != method:
            raise ConflictError("idempotency_key", f"was already used for a {first_method} request; "
                                "use a new key for a new contact")
        return first

    async def _existing_advies(self, field: str, advies_id: str) -> ContactRecord:
        if not advies_id.strip():
            raise ValidationError(field, "name the advies (contact id) this request refers to")
        record = await asyncio.to_thread(self.store.get, advies_id)
        if record is None or not record.kind.is_advies:
            raise ContactNotFound(field, f"no advies {advies_id!r} in this region")
        return record

    # -- building contacts and events -------------------------------------------------------

    def _new_record(self, kind: ContactKind, payload: bytes, **extra: Any) -> ContactRecord:
        received_at = self._clock()
        contact_id = str(uuid.uuid4())
        # Human-readable reference for phone calls: region, day, random part (not a sequence,
        # so references reveal nothing about volumes).
        reference = f"VT{self.region:02d}-{received_at:%Y%m%d}-{secrets.token_hex(4).upper()}"
        sealed = self.protector.encrypt_bytes(payload, event_id=contact_id, field=PAYLOAD_FIELD)
        return ContactRecord(contact_id=contact_id, reference=reference, kind=kind, received_at=received_at,
                             payload=sealed, **extra)

    def _advies_contact(self, advies: Advies, kind: ContactKind, previous_advies_id: str) -> ContactRecord:
        return self._new_record(kind, proto.advies_payload(advies.as_stored()), linked_contact_id=previous_advies_id)

    def _melding_contact(self, melding: Melding, kind: ContactKind, **extra: Any) -> ContactRecord:
        return self._new_record(kind, proto.melding_payload(melding), same_day=melding.same_day, **extra)

    def _advies_event(self, record: ContactRecord, advies: Advies) -> OutboxEntry:
        event_id = new_event_id()
        # The event carries only what may be kept (a bystander's details only with consent).
        event = proto.advies_registered(tenant=self.tenant, event_id=event_id, record=record,
                                        advies=advies.as_stored(), protector=self.protector)
        return self._entry(record, event, event_id)

    def _melding_event(self, record: ContactRecord, origin: MeldingOrigin, melding: Melding) -> OutboxEntry:
        event_id = new_event_id()
        event = proto.melding_received(tenant=self.tenant, event_id=event_id, record=record, origin=origin,
                                       melding=melding, protector=self.protector)
        return self._entry(record, event, event_id)

    def _entry(self, record: ContactRecord, message: Any, event_id: str) -> OutboxEntry:
        envelope = envelope_for(message, source=f"intake/{self.tenant}", tenant=self.tenant, event_id=event_id,
                                time=record.received_at)
        value, _headers = encode(message, envelope)
        return OutboxEntry(topic=self.topic, key=record.contact_id, value=value, envelope=envelope)

